package io.parley.bench;

import com.typesafe.config.ConfigFactory;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.testing.TestNodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A load process that only holds idle connections: {@link LoadGen} starts several, because one
 * process may open at most 20,000 files here and 100,000 connections need five or more. Prints
 * {@code held <n> failed <m>} once every connection is up or refused, then holds them until its
 * stdin closes (the parent exits or is done measuring).
 */
@Command(
    name = "idle-holder",
    mixinStandardHelpOptions = true,
    description = "Opens idle WebSocket connections to Parley nodes and holds them.")
public final class IdleHolder implements Callable<Integer> {

  @Option(
      names = "--target",
      required = true,
      description = "port:count, connections to open to the node on that port (repeatable)")
  List<String> targets;

  @Option(
      names = "--source",
      required = true,
      description = "loopback source address (repeatable); ~28,000 ephemeral ports each")
  List<String> sources;

  @Option(names = "--prefix", required = true, description = "user id prefix, unique per holder")
  String prefix;

  @Option(
      names = "--in-flight",
      defaultValue = "64",
      description = "handshakes in flight: enough to keep the node busy, not its accept backlog")
  int inFlight;

  public static void main(String[] args) {
    System.exit(new CommandLine(new IdleHolder()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "idle-holder",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    JwtIssuer tokens =
        new JwtIssuer(
            new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)),
            Clock.systemUTC());
    List<LoadClient> held = new ArrayList<>();
    AtomicInteger failed = new AtomicInteger();
    Semaphore window = new Semaphore(inFlight);
    List<CompletableFuture<?>> pending = new ArrayList<>();
    int index = 0;
    for (String target : targets) {
      int port = Integer.parseInt(target.split(":")[0]);
      int count = Integer.parseInt(target.split(":")[1]);
      for (int i = 0; i < count; i++, index++) {
        window.acquire();
        String uri =
            "ws://127.0.0.1:"
                + port
                + "/ws?device=d&access_token="
                + tokens.issue(prefix + "-" + index, Duration.ofHours(4));
        pending.add(
            LoadClient.connect(system, uri, sources.get(index % sources.size()), frame -> {})
                .toCompletableFuture()
                .whenComplete(
                    (client, failure) -> {
                      window.release();
                      if (failure != null) {
                        failed.incrementAndGet();
                      } else {
                        synchronized (held) {
                          held.add(client);
                        }
                      }
                    }));
      }
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .exceptionally(some -> null)
        .join();
    System.out.println("held " + held.size() + " failed " + failed.get());
    System.out.flush();
    awaitStdinClosed();
    system.terminate();
    return 0;
  }

  /** The parent's signal to let go: it closes our stdin, or dies and the pipe closes. */
  private static void awaitStdinClosed() throws IOException {
    while (System.in.read() != -1) {
      // ignore input
    }
  }
}
