package io.parley.presence;

import static io.parley.presence.PresenceIntegrationTest.frame;
import static io.parley.presence.PresenceIntegrationTest.presenceOf;
import static io.parley.presence.PresenceIntegrationTest.user;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A crashed node cannot say its users left: their presence expires, and viewers hear of it. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class PresenceExpiryIntegrationTest {

  @Test
  void aCrashedNodesUsersGoOfflineWhenTheirPresenceExpires(LocalStack stack) {
    Map<String, Object> config = new HashMap<>(PresenceIntegrationTest.presenceTimings());
    config.putAll(TestCluster.CRASHABLE);
    config.put("parley.presence.ttl", "3s");
    config.put("parley.gateway.heartbeat-interval", "1s");
    try (TestCluster cluster = TestCluster.start(stack, 2, config)) {
      String alice = user("alice");
      String bob = user("bob");
      String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
      try (WsClient bobLaptop =
          WsClient.connect(cluster.httpPort(0), TestCluster.token(bob), "l")) {
        bobLaptop.send(frame("open", conversation));
        assertEquals("offline", presenceOf(bobLaptop, alice).path("status").asText());
        WsClient alicePhone = WsClient.connect(cluster.httpPort(1), TestCluster.token(alice), "p");
        assertEquals("online", presenceOf(bobLaptop, alice).path("status").asText());
        // Heartbeats keep her online well past the ttl; only the crash ends them.
        await()
            .during(Duration.ofSeconds(5))
            .atMost(Duration.ofSeconds(30))
            .until(() -> bobLaptop.pending() == 0);
        Instant online = Instant.now();

        cluster.crash(1);
        Instant crashed = Instant.now();
        JsonNode offline = presenceOf(bobLaptop, alice);
        assertEquals("offline", offline.path("status").asText());
        Instant lastSeen = Instant.parse(offline.path("lastSeen").asText());
        assertTrue(
            !lastSeen.isBefore(online.minusSeconds(2)) && !lastSeen.isAfter(crashed),
            "lastSeen is her last heartbeat before the crash: " + lastSeen);
        alicePhone.close();
      }
    }
  }
}
