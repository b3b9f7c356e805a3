package io.parley.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.pipeline.KafkaConnector;
import io.parley.pipeline.MessageRecord;
import io.parley.registry.RedisConnector;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A send left in doubt (ADR 0008): a node claimed the idempotency key and died before it could
 * record the broker's answer, which the chat checker caught as a message stored twice after kill
 * -9. Here the crashed attempt is rebuilt by hand: its claim in Redis, and (or not) its record in
 * Kafka. The retry must settle from the log: the original ack when the record is there, a new
 * message when it is not, and "come back later" while the earlier attempt could still land.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class InDoubtSendIntegrationTest {

  private static TestCluster cluster;
  private static String topic;

  @BeforeAll
  static void start(LocalStack stack) {
    cluster = TestCluster.start(stack, 1, Map.of());
    topic = cluster.node(0).system().settings().config().getString("parley.kafka.messages-topic");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aRetryOfACrashedAttemptThatReachedKafkaGetsItsOriginalAckAndMakesNoSecondMessage()
      throws Exception {
    String alice = user("alice");
    String bob = user("bob");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    try (WsClient phone = connect(alice);
        WsClient bobs = connect(bob)) {
      assertEquals(1, ack(phone, conversation, UUID.randomUUID().toString()).path("seq").asLong());
      bobs.next("message");

      // The crashed attempt: claimed a minute ago, written to Kafka at seq 50, never acked.
      String key = UUID.randomUUID().toString();
      Instant claimedAt = Instant.now().minusSeconds(60);
      claim(conversation, key, claimedAt);
      publish(new MessageRecord(conversation, 50, alice, "phone", key, "in doubt", claimedAt));

      JsonNode retried = ack(phone, conversation, key);
      assertEquals(50, retried.path("seq").asLong(), "the original ack, from the log");
      JsonNode again = ack(phone, conversation, key);
      assertEquals(50, again.path("seq").asLong(), "remembered: the next retry is answered alike");

      JsonNode next = ack(phone, conversation, UUID.randomUUID().toString());
      assertEquals(2, next.path("seq").asLong(), "the retry took no seq");
      assertEquals(2, bobs.next("message").path("seq").asLong(), "and pushed nothing to bob");
    }
  }

  @Test
  void aRetryOfACrashedAttemptThatNeverReachedKafkaBecomesTheMessage() throws Exception {
    String alice = user("alice");
    String bob = user("bob");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    try (WsClient phone = connect(alice);
        WsClient bobs = connect(bob)) {
      String key = UUID.randomUUID().toString();
      claim(conversation, key, Instant.now().minusSeconds(60)); // and nothing in Kafka

      assertEquals(1, ack(phone, conversation, key).path("seq").asLong());
      JsonNode pushed = bobs.next("message");
      assertEquals(key, pushed.path("idempotencyKey").asText());
      assertEquals(1, ack(phone, conversation, key).path("seq").asLong(), "and it is remembered");
    }
  }

  @Test
  void aRetryWhileTheEarlierAttemptMayStillLandIsToldToComeBack() throws Exception {
    String alice = user("alice");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, user("bob"));
    try (WsClient phone = connect(alice)) {
      String key = UUID.randomUUID().toString();
      claim(conversation, key, Instant.now()); // an attempt under way on some node

      phone.send(send(conversation, key));
      JsonNode answer = phone.next("error");
      assertEquals("unavailable", answer.path("code").asText());
      assertEquals(key, answer.path("ref").asText());
    }
  }

  private static void claim(String conversation, String key, Instant claimedAt) throws Exception {
    RedisConnector.get(system())
        .async()
        .set("dedup:" + conversation + ":" + key, Json.write(Map.of("claimedAt", claimedAt)))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static void publish(MessageRecord record) throws Exception {
    byte[] value = Json.write(record).getBytes(StandardCharsets.UTF_8);
    KafkaConnector.get(system())
        .publish(topic, record.conversationId(), value)
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private static JsonNode ack(WsClient client, String conversation, String key) {
    client.send(send(conversation, key));
    JsonNode ack = client.next("ack");
    assertEquals(key, ack.path("idempotencyKey").asText());
    return ack;
  }

  private static Map<String, Object> send(String conversation, String key) {
    return Map.of(
        "type", "send", "conversationId", conversation, "idempotencyKey", key, "body", "hi");
  }

  private static WsClient connect(String user) {
    return WsClient.connect(cluster.httpPort(0), TestCluster.token(user), "phone");
  }

  private static ActorSystem<?> system() {
    return cluster.node(0).system();
  }

  private static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 6);
  }
}
