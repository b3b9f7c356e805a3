package io.parley.bench;

import static org.awaitility.Awaitility.await;

import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.devstack.StackOptions;
import io.parley.devstack.StackService;
import io.parley.history.MessageStore;
import io.parley.history.Persister;
import io.parley.history.Schema;
import io.parley.ops.NodeConfig;
import io.parley.pipeline.KafkaConnector;
import io.parley.pipeline.MessageRecord;
import io.parley.testing.TestNodes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Not a test: measures the persister's sustained write rate and lag, and history page latency on a
 * 10,000-message conversation, against a real local Kafka and Cassandra. Run with {@code
 * bin/bench-history} (docs/benchmarks.md).
 */
public final class HistoryBench {

  private static final int RECORDS = 20_000;
  private static final int BIG = 10_000;
  private static final int READS = 1_000;

  public static void main(String[] args) throws Exception {
    try (LocalStack stack =
        LocalStack.start(
            StackOptions.defaults()
                .only(StackService.KAFKA, StackService.CASSANDRA, StackService.REDIS))) {
      ActorSystem<Void> system =
          ActorSystem.create(
              Behaviors.empty(),
              "bench",
              NodeConfig.load(
                  Map.of(
                      "pekko.actor.provider",
                      "local",
                      "parley.redis.uri",
                      stack.redis().uri(),
                      "parley.kafka.bootstrap-servers",
                      stack.kafka().bootstrapServers(),
                      "parley.cassandra.contact-points",
                      stack.cassandra().contactPoint(),
                      "parley.cassandra.create-schema",
                      true,
                      "chat.auth.jwt-secret",
                      TestNodes.JWT_SECRET)));
      try {
        run(system);
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
      }
    }
  }

  private static void run(ActorSystem<Void> system) throws Exception {
    Schema.migrate(MessageStore.session(system), system.settings().config(), true)
        .toCompletableFuture()
        .get();
    MessageStore store = new MessageStore(MessageStore.session(system), "parley", 10_000);
    String topic = system.settings().config().getString("parley.kafka.messages-topic");
    KafkaConnector kafka = KafkaConnector.get(system);
    List<CompletableFuture<?>> acks = new ArrayList<>();
    Instant sent = Instant.parse("2026-11-28T10:00:00Z");
    for (int i = 0; i < RECORDS; i++) {
      String conversation = i < BIG ? "bench-big" : "bench-" + (i % 50);
      long seq = i < BIG ? i + 1 : i / 50 + 1;
      MessageRecord record =
          new MessageRecord(
              conversation,
              seq,
              "alice",
              "phone",
              "key-" + i,
              "a message body of a typical length, some forty bytes " + i,
              sent);
      acks.add(
          kafka
              .publish(topic, conversation, Json.write(record).getBytes(StandardCharsets.UTF_8))
              .toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
    System.out.printf("published %d records to Kafka%n", RECORDS);

    Instant started = Instant.now();
    Persister persister =
        Persister.start(system, store, Persister.Settings.fromConfig(system.settings().config()));
    AtomicLong maxLag = new AtomicLong();
    await()
        .atMost(Duration.ofMinutes(15))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              maxLag.accumulateAndGet(persister.lag(), Math::max);
              return store.lastSeq("bench-big").toCompletableFuture().get() >= BIG
                  && store.lastSeq("bench-49").toCompletableFuture().get()
                      >= (RECORDS - 1) / 50 + 1;
            });
    long millis = Duration.between(started, Instant.now()).toMillis();
    System.out.printf(
        "persister: %d records in %d ms = %d records/s (backlog drained; max lag seen %d)%n",
        RECORDS, millis, RECORDS * 1000L / millis, maxLag.get());

    Random random = new Random(42);
    for (int limit : List.of(50, 100)) {
      List<Long> after = new ArrayList<>();
      List<Long> before = new ArrayList<>();
      for (int i = 0; i < READS; i++) {
        long seq = 1 + random.nextInt(BIG);
        long t0 = System.nanoTime();
        store.after("bench-big", seq, limit).toCompletableFuture().get();
        after.add(System.nanoTime() - t0);
        t0 = System.nanoTime();
        store.before("bench-big", seq + 1, limit).toCompletableFuture().get();
        before.add(System.nanoTime() - t0);
      }
      System.out.printf(
          "page limit %d on a %d-message conversation: after p50 %.2f ms p99 %.2f ms; before p50"
              + " %.2f ms p99 %.2f ms%n",
          limit, BIG, pct(after, 50), pct(after, 99), pct(before, 50), pct(before, 99));
    }
  }

  private static double pct(List<Long> nanos, int p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }
}
