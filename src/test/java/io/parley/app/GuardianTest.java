package io.parley.app;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import io.parley.ops.NodeConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The guardian's failure path, without a stack: a node whose history schema cannot be applied
 * (Cassandra unreachable) reports the failure to whoever starts it and stops, rather than serving
 * without history. Its success path is every integration suite's node.
 */
class GuardianTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void start() throws Exception {
    testKit =
        ActorTestKit.create(
            "guardian-test",
            NodeConfig.load(
                Map.of(
                    "pekko.actor.provider", "local",
                    "parley.cassandra.create-schema", true,
                    "parley.cassandra.contact-points", "127.0.0.1:" + closedPort(),
                    // Fail the first connection instead of retrying it for ever.
                    "datastax-java-driver.advanced.reconnect-on-init", false,
                    "chat.auth.jwt-secret", "x".repeat(32))));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aSchemaThatCannotBeAppliedFailsTheStartAndStopsTheGuardian() {
    CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
    ActorRef<Guardian.Command> guardian = testKit.spawn(Guardian.create(started));
    TestProbe<Void> watcher = testKit.createTestProbe();

    ExecutionException failure =
        assertThrows(ExecutionException.class, () -> started.get(60, TimeUnit.SECONDS));
    assertTrue(
        causedByUnreachableCassandra(failure), "fails on the unreachable Cassandra: " + failure);
    watcher.expectTerminated(guardian, Duration.ofSeconds(30));
  }

  private static boolean causedByUnreachableCassandra(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof AllNodesFailedException) {
        return true;
      }
    }
    return false;
  }

  /** A port nothing listens on: bound, read and closed again. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
