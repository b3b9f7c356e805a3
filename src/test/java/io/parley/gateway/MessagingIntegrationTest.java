package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.LocalStack;
import io.parley.ops.Metrics;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The send path across a real three-node cluster with real Kafka, Cassandra and Redis. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class MessagingIntegrationTest {

  private static TestCluster cluster;

  @BeforeAll
  static void start(LocalStack stack) {
    cluster = TestCluster.start(stack, 3, Map.of());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static Map<String, Object> send(String conversationId, String key, String body) {
    return Map.of(
        "type", "send", "conversationId", conversationId, "idempotencyKey", key, "body", body);
  }

  private static double envelopesReceived(int node) {
    return Metrics.get(cluster.node(node).system())
        .registry()
        .counter("parley_envelopes_received_total")
        .count();
  }

  @Test
  void messagesCrossNodesInOrderAndOnlyToNodesWithRecipients() {
    String alice = "alice-" + UUID.randomUUID().toString().substring(0, 8);
    String bob = "bob-" + UUID.randomUUID().toString().substring(0, 8);
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    double thirdNodeBefore = envelopesReceived(2);

    try (WsClient alicePhone =
            WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone");
        WsClient bobLaptop =
            WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "laptop")) {
      List<String> keys = new ArrayList<>();
      for (int i = 1; i <= 100; i++) {
        String key = UUID.randomUUID().toString();
        keys.add(key);
        alicePhone.send(send(conversation, key, "message " + i));
      }
      Map<Long, String> acked = new HashMap<>();
      for (int i = 1; i <= 100; i++) {
        JsonNode ack = alicePhone.next("ack");
        assertEquals(conversation, ack.path("conversationId").asText());
        acked.put(ack.path("seq").asLong(), ack.path("idempotencyKey").asText());
      }
      for (int i = 1; i <= 100; i++) {
        assertEquals(
            keys.get(i - 1), acked.get((long) i), "seq 1..100 in the order sent, each acked once");
      }
      for (int i = 1; i <= 100; i++) {
        JsonNode message = bobLaptop.next("message");
        assertEquals(i, message.path("seq").asLong());
        assertEquals("message " + i, message.path("body").asText());
        assertEquals(alice, message.path("senderId").asText());
        assertEquals(keys.get(i - 1), message.path("idempotencyKey").asText());
      }
      assertEquals(0, alicePhone.pending(), "the sending device gets acks, not its own messages");
    }
    assertTrue(envelopesReceived(1) >= 1, "the recipient's node received envelopes");
    assertEquals(
        thirdNodeBefore, envelopesReceived(2), "a node without recipients received nothing");
  }

  /** The value of an unlabelled Prometheus sample, 0 when absent. */
  private static double sample(String scrape, String name) {
    return scrape
        .lines()
        .filter(line -> line.startsWith(name + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(name.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }

  @Test
  void metricsShowTheSendPathMoving() {
    String alice = "alice-" + UUID.randomUUID().toString().substring(0, 8);
    String bob = "bob-" + UUID.randomUUID().toString().substring(0, 8);
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    String before = Api.text(cluster.httpPort(0), "/metrics");
    String bobNodeBefore = Api.text(cluster.httpPort(1), "/metrics");
    try (WsClient alicePhone =
            WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone");
        WsClient bobLaptop =
            WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "laptop")) {
      for (int i = 1; i <= 5; i++) {
        alicePhone.send(send(conversation, UUID.randomUUID().toString(), "m" + i));
        alicePhone.next("ack");
        bobLaptop.next("message");
      }
      String after = Api.text(cluster.httpPort(0), "/metrics");
      String bobNodeAfter = Api.text(cluster.httpPort(1), "/metrics");
      assertTrue(sample(after, "parley_connections") >= 1, after);
      assertEquals(5, sample(after, "parley_sends_total") - sample(before, "parley_sends_total"));
      assertEquals(5, sample(after, "parley_acks_total") - sample(before, "parley_acks_total"));
      assertEquals(
          5,
          sample(after, "parley_ack_latency_seconds_count")
              - sample(before, "parley_ack_latency_seconds_count"));
      assertEquals(
          5,
          sample(bobNodeAfter, "parley_delivery_latency_seconds_count")
              - sample(bobNodeBefore, "parley_delivery_latency_seconds_count"));
      assertTrue(after.contains("parley_ack_latency_seconds_bucket{le="), "a histogram");
      assertTrue(after.contains("jvm_memory_used_bytes"), "JVM metrics");
      assertTrue(after.contains("jvm_compilation_time_ms_total"), "JIT compile time");
    }
  }

  @Test
  void theSendersOtherDevicesReceiveItsMessages() {
    String alice = "alice-" + UUID.randomUUID().toString().substring(0, 8);
    String conversation = Api.createConversation(cluster.httpPort(0), alice, "bob");
    try (WsClient phone = WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone");
        WsClient laptop =
            WsClient.connect(cluster.httpPort(2), TestCluster.token(alice), "laptop")) {
      String key = UUID.randomUUID().toString();
      phone.send(send(conversation, key, "from my phone"));
      assertEquals(1, phone.next("ack").path("seq").asLong());
      JsonNode onLaptop = laptop.next("message");
      assertEquals(key, onLaptop.path("idempotencyKey").asText());
      assertEquals("from my phone", onLaptop.path("body").asText());
    }
  }

  @Test
  void concurrentSendersInAGroupSeeTheSameOrder() throws Exception {
    List<String> members =
        List.of("g1-" + UUID.randomUUID(), "g2-" + UUID.randomUUID(), "g3-" + UUID.randomUUID())
            .stream()
            .map(id -> id.substring(0, 12))
            .toList();
    String conversation =
        Api.createConversation(cluster.httpPort(0), members.get(0), members.get(1), members.get(2));
    int perSender = 20;
    List<WsClient> clients = new ArrayList<>();
    ExecutorService senders = Executors.newFixedThreadPool(members.size());
    try {
      for (int i = 0; i < members.size(); i++) {
        clients.add(WsClient.connect(cluster.httpPort(i), TestCluster.token(members.get(i)), "d"));
      }
      List<Future<Map<Long, String>>> views = new ArrayList<>();
      for (WsClient client : clients) {
        views.add(
            senders.submit(
                () -> sendAndCollect(client, conversation, perSender, members.size() * perSender)));
      }
      Map<Long, String> first = views.get(0).get(2, TimeUnit.MINUTES);
      assertEquals(
          LongStream.rangeClosed(1, 60).boxed().toList(),
          first.keySet().stream().sorted().toList(),
          "seq 1..60, each once");
      for (Future<Map<Long, String>> view : views) {
        assertEquals(
            first,
            view.get(2, TimeUnit.MINUTES),
            "every member sees the same seq -> message mapping");
      }
    } finally {
      senders.shutdownNow();
      clients.forEach(WsClient::close);
    }
  }

  /** Sends {@code count} messages, then collects acks and others' messages up to {@code total}. */
  private static Map<Long, String> sendAndCollect(
      WsClient client, String conversation, int count, int total) {
    for (int i = 0; i < count; i++) {
      client.send(send(conversation, UUID.randomUUID().toString(), "m"));
    }
    Map<Long, String> view = new HashMap<>();
    while (view.size() < total) {
      JsonNode frame = client.next();
      String type = frame.path("type").asText();
      assertTrue(type.equals("ack") || type.equals("message"), () -> "unexpected " + frame);
      String previous = view.put(frame.path("seq").asLong(), frame.path("idempotencyKey").asText());
      assertEquals(null, previous, () -> "seq seen twice: " + frame);
    }
    return view;
  }

  @Test
  void aRetryOnAnotherNodeGetsTheOriginalAckAndIsDeliveredOnce() {
    String alice = "alice-" + UUID.randomUUID().toString().substring(0, 8);
    String bob = "bob-" + UUID.randomUUID().toString().substring(0, 8);
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    String key = UUID.randomUUID().toString();
    try (WsClient bobPhone =
        WsClient.connect(cluster.httpPort(2), TestCluster.token(bob), "phone")) {
      JsonNode original;
      try (WsClient first =
          WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone")) {
        first.send(send(conversation, key, "only once"));
        original = first.next("ack");
      }
      try (WsClient retry =
          WsClient.connect(cluster.httpPort(1), TestCluster.token(alice), "phone")) {
        retry.send(send(conversation, key, "only once"));
        JsonNode again = retry.next("ack");
        assertEquals(original.path("seq"), again.path("seq"));
        assertEquals(original.path("sentAt"), again.path("sentAt"));

        String next = UUID.randomUUID().toString();
        retry.send(send(conversation, next, "after the retry"));
        assertEquals(
            original.path("seq").asLong() + 1,
            retry.next("ack").path("seq").asLong(),
            "the retry used no seq");
      }
      assertEquals(key, bobPhone.next("message").path("idempotencyKey").asText());
      assertEquals(
          "after the retry",
          bobPhone.next("message").path("body").asText(),
          "the retried message was not delivered a second time");
    }
  }
}
