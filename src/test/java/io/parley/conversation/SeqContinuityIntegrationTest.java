package io.parley.conversation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.pipeline.MessageRecord;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The node hosting a conversation stops (gracefully, or as a crash) in the middle of a stream of
 * sends: the conversation moves, the sender retries what was not acked, and seqs stay unique and
 * increasing (dense after a hand-off, jumping after a crash), and the Kafka log holds exactly the
 * acked messages: each once, under its acked seq, in seq order.
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
    assertKafkaHoldsExactlyTheAckedMessages(cluster.node(0).system(), conversation, acked);
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

  /** One record of the conversation as the Kafka log holds it. */
  private record Logged(int partition, long offset, long seq, String idempotencyKey) {}

  /**
   * Reads the whole messages topic (every partition, from its beginning to its end as of now) and
   * checks the conversation's records against the acks the sender got.
   *
   * <p>Every check below holds by design, for this test's sender in particular:
   *
   * <ul>
   *   <li>A record is never in the log twice. The publisher hands each record to the Kafka client
   *       exactly once (a failed publish burns its seq, and a retry of the key that is not settled
   *       as written is a new record under a new seq), and the client's own retries are dropped by
   *       the broker (enable.idempotence = true, kafka.conf). So not even a duplicate of the same
   *       (seq, key) is legitimate: any second copy of a seq fails.
   *   <li>A key is never in the log twice (under two seqs): a retry publishes again only after its
   *       key's earlier attempt is settled from the log as never written, once no attempt can land
   *       any more (ADR 0008).
   *   <li>The log holds exactly the acked messages: the sender retries every key until it is acked,
   *       and an attempt that reached the log unanswered is found there and acked under its seq
   *       (ADR 0008).
   *   <li>Offset order is seq order: the sender has one message in flight at a time and sends the
   *       next only after an ack (the broker has the record); a node's publisher sends in seq order
   *       and the idempotent producer keeps that order in the partition; and a key in doubt is
   *       published again (under a higher seq) only once its earlier attempt can no longer land.
   * </ul>
   */
  private static void assertKafkaHoldsExactlyTheAckedMessages(
      ActorSystem<?> system, String conversation, Map<Long, String> acked) throws Exception {
    List<Logged> log = readLog(system, conversation);

    Set<Integer> partitions = new TreeSet<>();
    log.forEach(record -> partitions.add(record.partition()));
    assertEquals(1, partitions.size(), "the conversation's records are in one partition: " + log);

    Map<Long, List<String>> keysBySeq = new TreeMap<>();
    Map<String, List<Long>> seqsByKey = new TreeMap<>();
    for (Logged record : log) {
      keysBySeq
          .computeIfAbsent(record.seq(), seq -> new ArrayList<>())
          .add(record.idempotencyKey());
      seqsByKey
          .computeIfAbsent(record.idempotencyKey(), key -> new ArrayList<>())
          .add(record.seq());
    }
    Map<Long, List<String>> reused = new TreeMap<>();
    Map<Long, List<String>> doubled = new TreeMap<>();
    keysBySeq.forEach(
        (seq, keys) -> {
          if (new HashSet<>(keys).size() > 1) {
            reused.put(seq, keys);
          } else if (keys.size() > 1) {
            doubled.put(seq, keys);
          }
        });
    assertEquals(Map.of(), reused, "seqs carried by two different messages in Kafka");
    assertEquals(Map.of(), doubled, "messages written to Kafka twice under the same seq");
    Map<String, List<Long>> rewritten = new TreeMap<>();
    seqsByKey.forEach(
        (key, seqs) -> {
          if (seqs.size() > 1) {
            rewritten.put(key, seqs);
          }
        });
    assertEquals(Map.of(), rewritten, "messages written to Kafka under two seqs");

    Map<Long, String> logged = new TreeMap<>();
    keysBySeq.forEach((seq, keys) -> logged.put(seq, keys.get(0)));
    Map<Long, String> missing = new TreeMap<>(acked);
    missing.entrySet().removeIf(entry -> entry.getValue().equals(logged.get(entry.getKey())));
    assertEquals(Map.of(), missing, "acked messages missing from Kafka");
    Map<Long, String> unacked = new TreeMap<>(logged);
    unacked.entrySet().removeIf(entry -> entry.getValue().equals(acked.get(entry.getKey())));
    assertEquals(Map.of(), unacked, "messages in Kafka that were never acked under that seq");

    List<Long> inOffsetOrder = log.stream().map(Logged::seq).toList();
    assertEquals(
        inOffsetOrder.stream().sorted().toList(),
        inOffsetOrder,
        "the conversation's seqs in Kafka offset order");
  }

  /**
   * Every record of {@code conversation} in the messages topic, in offset order: all partitions are
   * read from the beginning up to their end offsets as of the call.
   */
  private static List<Logged> readLog(ActorSystem<?> system, String conversation) throws Exception {
    Config config = system.settings().config();
    String topic = config.getString("parley.kafka.messages-topic");
    Duration timeout = Duration.ofSeconds(30);
    List<Logged> log = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.getString("parley.kafka.bootstrap-servers"),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, timeout).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      Instant giveUp = Instant.now().plus(Duration.ofSeconds(90));
      while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < end.get(p))) {
        assertTrue(Instant.now().isBefore(giveUp), "the topic was not read to its end in 90 s");
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (conversation.equals(record.key())) {
            MessageRecord message = Json.mapper().readValue(record.value(), MessageRecord.class);
            assertEquals(conversation, message.conversationId(), "record key and value agree");
            log.add(
                new Logged(
                    record.partition(), record.offset(), message.seq(), message.idempotencyKey()));
          }
        }
      }
    }
    log.sort(Comparator.comparingInt(Logged::partition).thenComparingLong(Logged::offset));
    return log;
  }
}
