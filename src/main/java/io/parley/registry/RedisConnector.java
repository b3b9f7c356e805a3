package io.parley.registry;

import com.typesafe.config.Config;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.DisconnectedEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The node's one Redis connection (Lettuce multiplexes every command over it).
 *
 * <p>Fail fast rather than queue: while Redis is unreachable commands are rejected at once and a
 * command that gets no answer within {@code parley.redis.command-timeout} fails, so callers can
 * answer {@code unavailable} instead of holding a client's request. The connection is opened lazily
 * and re-opened after a failed attempt, so a node starts (not ready) while Redis is down.
 */
public final class RedisConnector implements Extension {

  private static final ExtensionId<RedisConnector> ID =
      new ExtensionId<>() {
        @Override
        public RedisConnector createExtension(ActorSystem<?> system) {
          return new RedisConnector(system);
        }
      };

  private final RedisClient client;
  private volatile StatefulRedisConnection<String, String> connection;

  /** Lua scripts' SHA1s, by script text (a handful of constants). */
  private final Map<String, String> digests = new ConcurrentHashMap<>();

  public static RedisConnector get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private RedisConnector(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("parley.redis");
    Duration timeout = config.getDuration("command-timeout");
    RedisURI uri = RedisURI.create(config.getString("uri"));
    uri.setTimeout(timeout);
    client = RedisClient.create(uri);
    client.setOptions(
        ClientOptions.builder()
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(timeout))
            .build());
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-redis",
            () -> CompletableFuture.supplyAsync(this::close));
  }

  /** Async commands on the shared connection; throws if Redis cannot be reached right now. */
  public RedisAsyncCommands<String, String> async() {
    return connection().async();
  }

  /**
   * Runs {@code command} on the shared connection; when Redis cannot be reached right now the
   * answer is a failed stage rather than a thrown exception, so callers handle one failure path.
   */
  public <T> CompletionStage<T> call(
      Function<RedisAsyncCommands<String, String>, CompletionStage<T>> command) {
    try {
      return command.apply(async());
    } catch (RuntimeException unreachable) {
      return CompletableFuture.failedFuture(unreachable);
    }
  }

  /**
   * Runs {@code action} each time the connection is back after having been lost (a Redis restart,
   * which may have lost every key, or a network cut). Not on the first connect.
   */
  public void onReconnected(Runnable action) {
    AtomicBoolean lost = new AtomicBoolean();
    client
        .getResources()
        .eventBus()
        .get()
        .subscribe(
            event -> {
              if (event instanceof DisconnectedEvent) {
                lost.set(true);
              } else if (event instanceof ConnectionActivatedEvent && lost.getAndSet(false)) {
                action.run();
              }
            });
  }

  /**
   * A Lua script on the shared connection, through {@link #call}. Sent by its SHA1 (EVALSHA), so
   * the script's text crosses the network once per Redis process rather than on every send's dedup
   * call; when Redis does not know it (first use, or Redis restarted) it goes whole once (EVAL,
   * which makes Redis keep it).
   */
  public CompletionStage<Object> eval(
      String script, ScriptOutputType type, String[] keys, String... args) {
    String sha = digests.computeIfAbsent(script, RedisConnector::sha1);
    return call(commands -> commands.<Object>evalsha(sha, type, keys, args))
        .exceptionallyCompose(
            failure ->
                unwrap(failure) instanceof RedisNoScriptException
                    ? call(commands -> commands.<Object>eval(script, type, keys, args))
                    : CompletableFuture.failedFuture(failure));
  }

  private static String sha1(String script) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      return HexFormat.of().formatHex(sha1.digest(script.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException everyJdkHasIt) {
      throw new IllegalStateException(everyJdkHasIt);
    }
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  /** True when Redis answers PING within the command timeout. */
  public CompletionStage<Boolean> ping() {
    return call(RedisAsyncCommands::ping).thenApply("PONG"::equals).exceptionally(failure -> false);
  }

  private StatefulRedisConnection<String, String> connection() {
    StatefulRedisConnection<String, String> current = connection;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (connection == null) {
        connection = client.connect();
      }
      return connection;
    }
  }

  private Done close() {
    synchronized (this) {
      if (connection != null) {
        connection.close();
      }
    }
    client.shutdown();
    return Done.getInstance();
  }
}
