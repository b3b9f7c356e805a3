package io.parley.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import io.parley.Json;
import io.parley.app.NodeConfig;
import io.parley.devstack.LocalStack;
import io.parley.history.MessageStore;
import io.parley.history.Schema;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The persister against real Kafka and Cassandra: everything published reaches history once and in
 * order, through a Cassandra outage and through a crash of the persister itself.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class PersisterIntegrationTest {

  private static final Duration DEADLINE = Duration.ofMinutes(3);

  /** A node-less actor system running one persister on its own topic and group. */
  private static ActorTestKit persisterSystem(LocalStack stack, String topic, String group) {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("parley.kafka.messages-topic", topic);
    overrides.put("parley.history.persister.group-id", group);
    overrides.put("parley.history.persister.max-backoff", "2s");
    overrides.put("parley.history.persister.lag-interval", "500ms");
    // A crash test stops this system abruptly: no drain, no final commit.
    overrides.put("pekko.coordinated-shutdown.run-by-actor-system-terminate", "off");
    return ActorTestKit.create(
        "persister-" + UUID.randomUUID().toString().substring(0, 8),
        NodeConfig.load(withStack(stack, overrides)));
  }

  private static Map<String, Object> withStack(LocalStack stack, Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(overrides);
    all.put("pekko.actor.provider", "local");
    all.put("parley.redis.uri", stack.redis().uri());
    all.put("parley.kafka.bootstrap-servers", stack.kafka().bootstrapServers());
    all.put("parley.cassandra.contact-points", stack.cassandra().contactPoint());
    all.put("parley.cassandra.create-schema", true);
    all.put("chat.auth.jwt-secret", TestNodes.JWT_SECRET);
    return all;
  }

  private static MessageStore store(ActorTestKit testKit) throws Exception {
    Config config = testKit.system().settings().config();
    Schema.migrate(MessageStore.session(testKit.system()), config, true)
        .toCompletableFuture()
        .get(2, TimeUnit.MINUTES);
    return new MessageStore(
        MessageStore.session(testKit.system()), config.getString("parley.history.keyspace"), 100);
  }

  private static void publish(ActorTestKit testKit, String topic, List<MessageRecord> records)
      throws Exception {
    KafkaConnector kafka = KafkaConnector.get(testKit.system());
    List<CompletableFuture<?>> acks = new ArrayList<>();
    for (MessageRecord record : records) {
      acks.add(
          kafka
              .publish(
                  topic,
                  record.conversationId(),
                  Json.write(record).getBytes(StandardCharsets.UTF_8))
              .toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
  }

  private static List<MessageRecord> records(String conversation, long fromSeq, long toSeq) {
    return LongStream.rangeClosed(fromSeq, toSeq)
        .mapToObj(
            seq ->
                new MessageRecord(
                    conversation,
                    seq,
                    "alice",
                    "phone",
                    UUID.randomUUID().toString(),
                    "body " + seq,
                    Instant.parse("2026-11-28T10:00:00Z")))
        .toList();
  }

  /** Every seq of the conversation as history returns it, paging forward. */
  private static List<Long> stored(MessageStore store, String conversation) throws Exception {
    List<Long> seqs = new ArrayList<>();
    MessageStore.Page page;
    do {
      page =
          store
              .after(conversation, seqs.isEmpty() ? 0 : seqs.get(seqs.size() - 1), 500)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      page.messages().forEach(m -> seqs.add(m.seq()));
    } while (page.hasMore());
    return seqs;
  }

  private static void awaitStored(MessageStore store, String conversation, long count) {
    List<Long> expected = LongStream.rangeClosed(1, count).boxed().toList();
    await()
        .atMost(DEADLINE)
        .pollInterval(Duration.ofMillis(250))
        // Right after Cassandra restarts, this test's own driver session has no node until its
        // reconnection policy comes round again; a failed read then means "not yet", not "lost".
        .ignoreExceptionsInstanceOf(ExecutionException.class)
        .untilAsserted(() -> assertEquals(expected, stored(store, conversation)));
  }

  @Test
  void everyPublishedRecordReachesHistoryOnceInOrder(LocalStack stack) throws Exception {
    String topic = "persist-" + UUID.randomUUID();
    ActorTestKit testKit = persisterSystem(stack, topic, "g-" + UUID.randomUUID());
    try {
      MessageStore store = store(testKit);
      Persister persister = Persister.start(testKit.system(), store);
      List<String> conversations =
          List.of(
              "p-" + UUID.randomUUID(),
              "p-" + UUID.randomUUID(),
              "p-" + UUID.randomUUID(),
              "p-" + UUID.randomUUID());
      List<MessageRecord> all = new ArrayList<>();
      for (String conversation : conversations) {
        all.addAll(records(conversation, 1, 250));
      }
      Instant started = Instant.now();
      publish(testKit, topic, all);
      for (String conversation : conversations) {
        awaitStored(store, conversation, 250);
      }
      long millis = Math.max(1, Duration.between(started, Instant.now()).toMillis());
      System.out.printf("persisted 1000 records in %d ms (%d/s)%n", millis, 1000_000 / millis);
      await().atMost(DEADLINE).until(() -> persister.lag() == 0);
      assertEquals(
          250L,
          store.lastSeq(conversations.get(0)).toCompletableFuture().get(30, TimeUnit.SECONDS));
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void aCassandraOutageDelaysHistoryButLosesNothing(LocalStack stack) throws Exception {
    String topic = "outage-" + UUID.randomUUID();
    ActorTestKit testKit = persisterSystem(stack, topic, "g-" + UUID.randomUUID());
    String conversation = "outage-" + UUID.randomUUID();
    try {
      MessageStore store = store(testKit);
      Persister.start(testKit.system(), store);
      publish(testKit, topic, records(conversation, 1, 50));
      awaitStored(store, conversation, 50);
      try {
        stack.cassandra().stop();
        publish(testKit, topic, records(conversation, 51, 250)); // Kafka still acks every one
      } finally {
        stack.cassandra().restart();
      }
      awaitStored(store, conversation, 250);
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void aCrashedPersisterResumesWithNothingMissingOrDoubled(LocalStack stack) throws Exception {
    String topic = "crash-" + UUID.randomUUID();
    String group = "g-" + UUID.randomUUID();
    String conversation = "crash-" + UUID.randomUUID();
    ActorTestKit first = persisterSystem(stack, topic, group);
    MessageStore firstStore = store(first);
    Persister.start(first.system(), firstStore);
    publish(first, topic, records(conversation, 1, 600));
    await()
        .atMost(DEADLINE)
        .until(() -> firstStore.lastSeq(conversation).toCompletableFuture().get() >= 50);
    first.system().terminate(); // mid-stream, without draining or committing
    first.system().getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);

    ActorTestKit second = persisterSystem(stack, topic, group);
    try {
      MessageStore store = store(second);
      Persister.start(second.system(), store);
      awaitStored(store, conversation, 600);
    } finally {
      second.shutdownTestKit();
    }
  }
}
