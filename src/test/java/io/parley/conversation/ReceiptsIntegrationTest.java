package io.parley.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Receipts across nodes and devices: forwarded to every other device of every member, read marks
 * stored in the conversation's journal and listed as {@code readSeq}, even after a restart.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class ReceiptsIntegrationTest {

  private static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static Map<String, Object> receipt(String conversationId, long seq, String kind) {
    return Map.of("type", "receipt", "conversationId", conversationId, "seq", seq, "kind", kind);
  }

  private static void assertReceipt(
      JsonNode receipt, String conversation, String user, long seq, String kind) {
    assertEquals("receipt", receipt.path("type").asText(), receipt::toString);
    assertEquals(conversation, receipt.path("conversationId").asText());
    assertEquals(user, receipt.path("userId").asText());
    assertEquals(seq, receipt.path("seq").asLong());
    assertEquals(kind, receipt.path("kind").asText());
  }

  private static long readSeqListed(int port, String user, String conversation) {
    Api.Response list = Api.get(port, "/api/conversations", TestCluster.token(user));
    assertEquals(200, list.status(), list.body()::toString);
    for (JsonNode summary : list.body().path("conversations")) {
      if (summary.path("conversationId").asText().equals(conversation)) {
        return summary.path("readSeq").asLong();
      }
    }
    throw new AssertionError(conversation + " not listed for " + user + ": " + list.body());
  }

  @Test
  void receiptsReachEveryOtherDeviceAndReadMarksSurviveARestart(LocalStack stack) {
    String alice = user("alice");
    String bob = user("bob");
    String conversation;
    try (TestCluster cluster = TestCluster.start(stack, 3, Map.of())) {
      conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
      try (WsClient alicePhone =
              WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone");
          WsClient bobLaptop =
              WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "laptop");
          WsClient bobPhone =
              WsClient.connect(cluster.httpPort(2), TestCluster.token(bob), "phone")) {
        for (int i = 1; i <= 3; i++) {
          alicePhone.send(
              Map.of(
                  "type",
                  "send",
                  "conversationId",
                  conversation,
                  "idempotencyKey",
                  UUID.randomUUID().toString(),
                  "body",
                  "m" + i));
          alicePhone.next("ack");
          assertEquals(i, bobLaptop.next("message").path("seq").asLong());
          assertEquals(i, bobPhone.next("message").path("seq").asLong(), "every device of bob");
        }

        bobLaptop.send(receipt(conversation, 3, "delivered"));
        assertReceipt(alicePhone.next(), conversation, bob, 3, "delivered");
        assertReceipt(bobPhone.next(), conversation, bob, 3, "delivered");

        bobLaptop.send(receipt(conversation, 2, "read"));
        assertReceipt(alicePhone.next(), conversation, bob, 2, "read");
        assertReceipt(bobPhone.next(), conversation, bob, 2, "read"); // bob's phone: read here

        bobPhone.send(receipt(conversation, 4, "read"));
        JsonNode refused = bobPhone.next("error");
        assertEquals("bad_request", refused.path("code").asText(), "seq 4 does not exist yet");
        assertEquals("receipt", refused.path("ref").asText());

        bobPhone.send(Map.of("type", "ping"));
        assertEquals("pong", bobPhone.next().path("type").asText());
        bobLaptop.send(Map.of("type", "ping"));
        assertEquals("pong", bobLaptop.next().path("type").asText(), "the reader's device: none");
      }
      assertEquals(2, readSeqListed(cluster.httpPort(2), bob, conversation));
      assertEquals(0, readSeqListed(cluster.httpPort(2), alice, conversation));
    }
    try (TestCluster restarted = TestCluster.start(stack, 1, Map.of())) {
      assertEquals(2, readSeqListed(restarted.httpPort(0), bob, conversation), "from the journal");
      Api.Response one =
          Api.get(
              restarted.httpPort(0), "/api/conversations/" + conversation, TestCluster.token(bob));
      assertEquals(2, one.body().path("readSeq").asLong(), one.body()::toString);
    }
  }

  @Test
  void nonMembersCannotSendReceipts(LocalStack stack) {
    try (TestCluster cluster = TestCluster.start(stack, 1, Map.of())) {
      String conversation = Api.createConversation(cluster.httpPort(0), user("alice"), "bob");
      try (WsClient mallory =
          WsClient.connect(cluster.httpPort(0), TestCluster.token(user("mallory")), "p")) {
        mallory.send(receipt(conversation, 1, "read"));
        assertEquals("forbidden", mallory.next("error").path("code").asText());
        mallory.send(
            Map.of("type", "receipt", "conversationId", conversation, "seq", 1, "kind", "seen"));
        assertEquals("bad_request", mallory.next("error").path("code").asText());
      }
    }
  }
}
