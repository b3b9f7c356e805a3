package io.parley.devstack;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A throwaway redis-server (no persistence) on a free port of 127.0.0.1. */
public final class RedisServer extends ChildService {

  static final String NAME = "redis";
  private static final String HOST = "127.0.0.1";

  /*
   * A native process has no guard, so a POSIX sh wrapper ties it to our stdin pipe:
   * redis runs in the background, a watcher waits for EOF on the pipe (saved as fd 3,
   * because background jobs get /dev/null as stdin) and then stops redis with SIGTERM.
   * The wrapper itself waits for redis, so it exits when redis does: a redis that dies
   * on its own (port taken) is seen at once.
   * $1 = binary, $2 = port, $3 = data folder.
   */
  private static final String WRAPPER =
      String.join(
          "\n",
          "exec 3<&0 </dev/null",
          "\"$1\" --port \"$2\" --bind 127.0.0.1 --save '' --appendonly no --dir \"$3\" 3<&- &",
          "redis=$!",
          "{ cat <&3 >/dev/null; kill \"$redis\" 2>/dev/null; } &",
          "exec 3<&-",
          "wait \"$redis\"");

  private final Path projectDir;
  private final int port;
  private Path binary;

  RedisServer(Path workDir, Path projectDir) {
    super(workDir.resolve(NAME), workDir.resolve("logs").resolve(NAME + ".log"));
    this.projectDir = projectDir;
    this.port = FreePorts.next();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String address() {
    return uri();
  }

  @Override
  String environmentVariable() {
    return "PARLEY_REDIS_URI";
  }

  public String host() {
    return HOST;
  }

  public int port() {
    return port;
  }

  /** For Lettuce and the {@code PARLEY_REDIS_URI} variable. */
  public String uri() {
    return "redis://" + HOST + ":" + port;
  }

  @Override
  protected void prepare() {
    binary = RedisBinary.locate(projectDir);
  }

  @Override
  protected List<String> command() {
    return List.of(
        "sh",
        "-c",
        WRAPPER,
        "parley-redis",
        binary.toString(),
        String.valueOf(port),
        home().toString());
  }

  @Override
  protected Duration readyTimeout() {
    return Duration.ofSeconds(20);
  }

  @Override
  protected ReadinessProbe readinessProbe() {
    RedisURI redisUri = RedisURI.create(uri());
    redisUri.setTimeout(Duration.ofSeconds(2));
    RedisClient client = RedisClient.create(redisUri);
    return new ReadinessProbe() {
      @Override
      public boolean answers() {
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
          return "PONG".equals(connection.sync().ping());
        }
      }

      @Override
      public void close() {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    };
  }
}
