package io.parley.history;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.typesafe.config.Config;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.ops.NodeConfig;
import io.parley.pipeline.KafkaConnector;
import io.parley.pipeline.MessageRecord;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.Logging;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.FutureConverters;

/**
 * The persister against real Kafka and Cassandra: everything published reaches history once and in
 * order, through a Cassandra outage and through a crash of the persister itself.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class PersisterIntegrationTest {

  private static final Duration DEADLINE = Duration.ofMinutes(3);

  /** Row batches the crashing persister gets written before its next write hangs. */
  private static final int PASSED_BATCHES = 2;

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
    return store(testKit, MessageStore.session(testKit.system()));
  }

  /** History through {@code session}; the schema must exist. */
  private static MessageStore store(ActorTestKit testKit, CassandraSession session) {
    Config config = testKit.system().settings().config();
    return new MessageStore(session, config.getString("parley.history.keyspace"), 100);
  }

  private static Persister startPersister(ActorSystem<?> system, MessageStore store) {
    return Persister.start(system, store, Persister.Settings.fromConfig(system.settings().config()));
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
      Persister persister = startPersister(testKit.system(), store);
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
      startPersister(testKit.system(), store);
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
    List<MessageRecord> published = records(conversation, 1, 600);
    ActorTestKit first = persisterSystem(stack, topic, group);
    CqlSession firstSession = null;
    try {
      store(first); // the schema
      firstSession =
          MessageStore.session(first.system())
              .underlying()
              .toCompletableFuture()
              .get(1, TimeUnit.MINUTES);
      RowGate gate = new RowGate(firstSession, PASSED_BATCHES);
      startPersister(first.system(), store(first, gate.session(first.system())));
      publish(first, topic, published);
      // A step is written as several row batches; at most PASSED_BATCHES (each of at most
      // max-batch-rows = 100 rows) ever reach Cassandra, so the crash below is mid-stream whatever
      // the persister's speed, with the held step's rows partly unwritten and its offsets
      // uncommitted.
      await("the persister stuck mid-stream: " + PASSED_BATCHES + " batches written, one held")
          .atMost(DEADLINE)
          .until(() -> gate.written() == PASSED_BATCHES && gate.held() > 0);
    } finally {
      first.system().terminate(); // mid-stream, without draining or committing
      first.system().getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
      if (firstSession != null) {
        firstSession.close(); // the held writes are dropped, never sent
      }
    }

    ActorTestKit second = persisterSystem(stack, topic, group);
    try {
      MessageStore store = store(second);
      List<Long> atCrash =
          storedRecords(store, conversation).stream().map(MessageRecord::seq).toList();
      assertTrue(
          !atCrash.isEmpty() && atCrash.size() < published.size(),
          "the crash came mid-stream: " + atCrash.size() + " of 600 rows were stored");
      long head = store.lastSeq(conversation).toCompletableFuture().get(30, TimeUnit.SECONDS);
      System.out.printf("crashed with %d of 600 rows stored, head %d%n", atCrash.size(), head);
      assertTrue(
          atCrash.containsAll(LongStream.rangeClosed(1, head).boxed().toList()),
          "every row up to the head (" + head + ") was written before the crash: " + atCrash);

      startPersister(second.system(), store);
      awaitStored(store, conversation, 600);
      // The primary key (conversation, bucket, seq) would hide a row written twice, so compare
      // every row, key and body included, with what was published: a message stored under a
      // second seq, or a row holding another record than its seq's, shows up here.
      assertEquals(
          published,
          storedRecords(store, conversation),
          "history holds each published record exactly once, as published");
    } finally {
      second.shutdownTestKit();
    }
  }

  /**
   * Every row of the conversation, ascending, read down from above the highest published seq:
   * unlike {@link MessageStore#after}, not bounded by the conversation's head, which lags the rows
   * of a step cut short.
   */
  private static List<MessageRecord> storedRecords(MessageStore store, String conversation)
      throws Exception {
    List<MessageRecord> rows = new ArrayList<>();
    long below = 601;
    MessageStore.Page page;
    do {
      page = store.before(conversation, below, 500).toCompletableFuture().get(30, TimeUnit.SECONDS);
      rows.addAll(page.messages());
      below = page.messages().isEmpty() ? below : page.messages().get(0).seq();
    } while (page.hasMore());
    rows.sort(Comparator.comparingLong(MessageRecord::seq));
    return rows;
  }

  /**
   * A history driver session that passes the first {@code permits} row batches to Cassandra and
   * holds every later one unanswered and unsent: a persister writing through it stops in the middle
   * of its stream. A batch Cassandra fails gives its permit back (the persister retries it). Every
   * other statement (prepare, head updates) goes through.
   */
  private static final class RowGate implements InvocationHandler {

    private final CqlSession real;
    private final AtomicInteger permits;
    private final AtomicInteger written = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();

    RowGate(CqlSession real, int permits) {
      this.real = real;
      this.permits = new AtomicInteger(permits);
    }

    int written() {
      return written.get();
    }

    int held() {
      return held.get();
    }

    CassandraSession session(ActorSystem<?> system) {
      CqlSession gated =
          (CqlSession)
              Proxy.newProxyInstance(
                  CqlSession.class.getClassLoader(), new Class<?>[] {CqlSession.class}, this);
      return new CassandraSession(
          system,
          ec -> FutureConverters.asScala(CompletableFuture.completedFuture(gated)),
          system.executionContext(),
          Logging.getLogger(system.classicSystem(), RowGate.class),
          "gated-history",
          cql -> CompletableFuture.completedFuture(Done.getInstance()),
          () -> {});
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getName().equals("executeAsync")
          && args != null
          && args.length == 1
          && args[0] instanceof BatchStatement) {
        if (permits.getAndUpdate(left -> Math.max(0, left - 1)) == 0) {
          held.incrementAndGet();
          return new CompletableFuture<AsyncResultSet>();
        }
        @SuppressWarnings("unchecked")
        CompletionStage<AsyncResultSet> write =
            (CompletionStage<AsyncResultSet>) forward(method, args);
        return write.whenComplete(
            (result, failure) -> {
              if (failure == null) {
                written.incrementAndGet();
              } else {
                permits.incrementAndGet();
              }
            });
      }
      return forward(method, args);
    }

    private Object forward(Method method, Object[] args) throws Throwable {
      try {
        return method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }
}
