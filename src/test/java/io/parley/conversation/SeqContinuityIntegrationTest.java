package io.parley.conversation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.pipeline.MessageRecord;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.kafka.ConsumerSettings;
import org.apache.pekko.kafka.Subscriptions;
import org.apache.pekko.kafka.javadsl.Consumer;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The node hosting a conversation stops (gracefully, or as a crash) in the middle of a stream of
 * sends: the conversation moves, the sender retries what was not acked, and seqs stay unique and
 * increasing (dense after a hand-off, jumping after a crash) while every acked message is in Kafka.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class SeqContinuityIntegrationTest {

  private static final int MESSAGES = 120;
  private static final int STOP_AFTER = 30;
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(250);

  @Test
  void seqsStayUniqueAndIncreasingWhenTheHostingNodeStops(LocalStack stack) throws Exception {
    try (TestCluster cluster =
        TestCluster.start(stack, 2, Map.of("parley.gateway.ask-timeout", "3s"))) {
      runThrough(cluster, () -> cluster.stop(1));
    }
  }

  @Test
  void seqsJumpButNeverRepeatWhenTheHostingNodeCrashes(LocalStack stack) throws Exception {
    Map<String, Object> config = new java.util.HashMap<>(TestCluster.CRASHABLE);
    config.put("parley.gateway.ask-timeout", "3s");
    // A send in flight at the crash leaves its key claimed; its retry waits until no attempt can
    // still reach Kafka (ADR 0008). Tighter Kafka timeouts make that 8 s instead of 45 s.
    config.put("parley.dedup.publish-deadline", "2s");
    config.put("parley.dedup.in-doubt-margin", "1s");
    config.put("pekko.kafka.producer.kafka-clients.request.timeout.ms", "3000");
    config.put("pekko.kafka.producer.kafka-clients.delivery.timeout.ms", "5000");
    // Three nodes: after the crash the two survivors are the majority the resolver keeps.
    try (TestCluster cluster = TestCluster.start(stack, 3, config)) {
      Map<Long, String> acked = runThrough(cluster, () -> cluster.crash(1));
      long last = acked.keySet().stream().max(Long::compare).orElseThrow();
      assertTrue(
          last > MESSAGES,
          "the recovered conversation continued after its reserved block: " + last);
    }
  }

  /** Sends MESSAGES messages to a conversation hosted on node 1, running {@code fault} midway. */
  private static Map<Long, String> runThrough(TestCluster cluster, Runnable fault)
      throws Exception {
    String conversation = conversationHostedOn(cluster, 1);
    Map<Long, String> acked = new LinkedHashMap<>();
    CompletableFuture<Void> faulted = null;
    try (WsClient alice =
        WsClient.connect(cluster.httpPort(0), TestCluster.token("alice"), "phone")) {
      long lastSeq = 0;
      for (int i = 1; i <= MESSAGES; i++) {
        if (i == STOP_AFTER) {
          faulted = CompletableFuture.runAsync(fault);
        }
        JsonNode ack = sendUntilAcked(alice, conversation, UUID.randomUUID().toString(), "m" + i);
        long seq = ack.path("seq").asLong();
        long previous = lastSeq;
        assertTrue(seq > previous, () -> "seq " + seq + " after " + previous);
        lastSeq = seq;
        acked.put(seq, ack.path("idempotencyKey").asText());
      }
    }
    faulted.get(60, TimeUnit.SECONDS);
    assertEquals(MESSAGES, acked.size(), "every message acked once, under its own seq");
    assertEveryAckedMessageIsInKafka(cluster.node(0).system(), conversation, acked);
    return acked;
  }

  /**
   * Retries the same idempotency key while the conversation is moving or a send is in doubt (both
   * answer `unavailable`), with a client's backoff, for up to two minutes.
   */
  private static JsonNode sendUntilAcked(
      WsClient client, String conversation, String key, String body) {
    return await("an ack for " + key)
        .atMost(Duration.ofMinutes(2))
        .pollInSameThread()
        .pollDelay(Duration.ZERO)
        .pollInterval(RETRY_BACKOFF) // a client's backoff between refused attempts
        .until(() -> attempt(client, conversation, key, body), Objects::nonNull);
  }

  /** The ack, or null when the send was refused as `unavailable` (anything else fails). */
  private static JsonNode attempt(WsClient client, String conversation, String key, String body) {
    client.send(
        Map.of(
            "type", "send", "conversationId", conversation, "idempotencyKey", key, "body", body));
    JsonNode answer = client.next();
    if (answer.path("type").asText().equals("ack")) {
      assertEquals(key, answer.path("idempotencyKey").asText());
      return answer;
    }
    assertEquals("unavailable", answer.path("code").asText(), answer::toString);
    return null;
  }

  private static String conversationHostedOn(TestCluster cluster, int node) throws Exception {
    for (int i = 0; i < 50; i++) {
      String conversation = Api.createConversation(cluster.httpPort(0), "alice", "bob");
      if (hostedEntities(cluster.node(node).system()).contains(conversation)) {
        return conversation;
      }
    }
    throw new AssertionError("no conversation landed on node " + node);
  }

  private static Set<String> hostedEntities(ActorSystem<?> system) throws Exception {
    ShardRegion.CurrentShardRegionState state =
        AskPattern
            .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.CurrentShardRegionState>
                ask(
                    ClusterSharding.get(system).shardState(),
                    replyTo -> new GetShardRegionState(Conversation.ENTITY_KEY, replyTo),
                    Duration.ofSeconds(10),
                    system.scheduler())
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    Set<String> ids = new HashSet<>();
    state.getShards().forEach(shard -> ids.addAll(shard.getEntityIds()));
    return ids;
  }

  private static void assertEveryAckedMessageIsInKafka(
      ActorSystem<?> system, String conversation, Map<Long, String> acked) throws Exception {
    Map<Long, String> missing = new LinkedHashMap<>(acked);
    ConsumerSettings<String, byte[]> settings =
        ConsumerSettings.create(system, new StringDeserializer(), new ByteArrayDeserializer())
            .withBootstrapServers(
                system.settings().config().getString("parley.kafka.bootstrap-servers"))
            .withGroupId("seq-continuity-" + UUID.randomUUID())
            .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Consumer.plainSource(
            settings,
            Subscriptions.topics(
                system.settings().config().getString("parley.kafka.messages-topic")))
        .filter(record -> conversation.equals(record.key()))
        .map(record -> Json.mapper().readValue(record.value(), MessageRecord.class))
        .takeWhile(
            record -> {
              missing.remove(record.seq(), record.idempotencyKey());
              return !missing.isEmpty();
            },
            true)
        .completionTimeout(Duration.ofSeconds(60))
        .runWith(Sink.ignore(), system)
        .toCompletableFuture()
        .get(90, TimeUnit.SECONDS);
    assertEquals(Map.of(), missing, "acked messages missing from Kafka");
  }
}
