package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sends over the rate are refused with `rate_limited`; a flood closes the connection. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class RateLimitIntegrationTest {

  @Test
  void floodsAreRefusedThenClosed(LocalStack stack) throws Exception {
    Map<String, Object> slow =
        Map.of(
            "parley.gateway.rate-limit.sends-per-second", 1,
            "parley.gateway.rate-limit.send-burst", 3,
            "parley.gateway.rate-limit.close-after-refusals", 5);
    try (TestCluster cluster = TestCluster.start(stack, 1, slow)) {
      int port = cluster.httpPort(0);
      String conversation = Api.createConversation(port, "flooder", "bob");
      try (WsClient client = WsClient.connect(port, TestCluster.token("flooder"), "d")) {
        // All at once: the burst of 3 passes, the rest is refused, and 5 refusals close.
        for (int i = 0; i < 20; i++) {
          client.send(
              MessagingIntegrationTest.send(conversation, UUID.randomUUID().toString(), "m" + i));
        }
        int acks = 0;
        int limited = 0;
        while (!client.closed().isDone() || client.pending() > 0) {
          JsonNode frame = client.next();
          if (frame.path("type").asText().equals("ack")) {
            acks++;
          } else {
            assertEquals("rate_limited", frame.path("code").asText(), frame::toString);
            limited++;
            if (limited < 5) {
              // 1 a second: the next send is taken within a second (the close carries none).
              long retryAfterMs = frame.path("retryAfterMs").asLong();
              assertTrue(retryAfterMs >= 1 && retryAfterMs <= 1000, frame::toString);
            }
          }
          if (limited == 5) {
            break;
          }
        }
        assertEquals(5, limited, "refused until the connection closed");
        assertEquals(1000, client.closed().get(30, TimeUnit.SECONDS), "closed after the flood");
        assertEquals(
            true, acks <= 3 + 1, "at most the burst (and one refill) got through: " + acks);
      }
    }
  }
}
