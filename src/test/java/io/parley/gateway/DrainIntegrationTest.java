package io.parley.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node told to shut down turns not-ready first, then tells each of its clients to reconnect and
 * closes them, spread over time; the clients reconnect to the other node.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class DrainIntegrationTest {

  private static final int CLIENTS = 20;

  @Test
  void readinessFlipsThenClientsAreToldToReconnectSpreadOverTime(LocalStack stack)
      throws Exception {
    Map<String, Object> drain =
        Map.of(
            "parley.drain.readiness-delay", "1s",
            "parley.drain.spread", "3s",
            "parley.drain.grace", "3s");
    try (TestCluster cluster = TestCluster.start(stack, 2, drain)) {
      int draining = cluster.httpPort(1);
      List<WsClient> clients = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        clients.add(WsClient.connect(draining, TestCluster.token("user-" + i), "phone"));
      }
      CompletableFuture<Instant> notReady =
          CompletableFuture.supplyAsync(
              () -> {
                await()
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> Api.get(draining, "/health/ready", null).status() == 503);
                return Instant.now();
              });
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> cluster.stop(1));

      List<Instant> closedAt = new ArrayList<>();
      for (WsClient client : clients) {
        assertEquals("draining", client.next("reconnect").path("reason").asText());
        assertEquals(1000, client.closed().get(60, TimeUnit.SECONDS));
      }
      for (WsClient client : clients) {
        closedAt.add(client.closedAt());
      }
      Instant first = closedAt.stream().min(Instant::compareTo).orElseThrow();
      Instant last = closedAt.stream().max(Instant::compareTo).orElseThrow();
      assertTrue(
          notReady.get(60, TimeUnit.SECONDS).isBefore(first), "not ready before the first close");
      assertTrue(
          Duration.between(first, last).toMillis() >= 500,
          "closes spread over time, not all at once: " + Duration.between(first, last));
      stopped.get(60, TimeUnit.SECONDS);

      try (WsClient back =
          WsClient.connect(cluster.httpPort(0), TestCluster.token("user-0"), "phone")) {
        back.send("{\"type\":\"ping\"}");
        back.next("pong");
      }
    }
  }
}
