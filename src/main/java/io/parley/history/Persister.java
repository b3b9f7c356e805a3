package io.parley.history;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.parley.Json;
import io.parley.ops.Metrics;
import io.parley.pipeline.MessageRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.kafka.CommitterSettings;
import org.apache.pekko.kafka.ConsumerMessage;
import org.apache.pekko.kafka.ConsumerSettings;
import org.apache.pekko.kafka.Subscriptions;
import org.apache.pekko.kafka.javadsl.Committer;
import org.apache.pekko.kafka.javadsl.Consumer;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.RestartSettings;
import org.apache.pekko.stream.javadsl.RestartSource;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the message log from Kafka into Cassandra history. Every node runs one member of the
 * consumer group, so partitions spread over the nodes.
 *
 * <p>At least once, and harmless when more: a record's offset is committed only after its write
 * (offsets of a partition are committed in order), a failed write is retried with backoff for as
 * long as Cassandra is down (Kafka keeps the backlog; nothing is skipped), and a restarted consumer
 * resumes from the last committed offset; writes are idempotent.
 *
 * <p>Records are written in steps: whatever arrived while the previous step was being written, as
 * one unlogged batch per Cassandra partition: 4-5 times the rate of one row write and one head
 * update per record (docs/benchmarks.md). A conversation's head is raised only after the rows below
 * it are written, so a reader that sees the head can trust the rows (ADR 0006). A record that
 * cannot be parsed is logged, counted and skipped: one poison record must not stop history.
 */
public final class Persister {

  private static final Logger log = LoggerFactory.getLogger(Persister.class);

  private final ActorSystem<?> system;
  private final MessageStore store;
  private final Settings settings;
  private final AtomicReference<Consumer.Control> control = new AtomicReference<>();
  private final AtomicLong lag = new AtomicLong(-1);
  private final Counter written;
  private final Counter poison;

  /** {@code parley.history.persister} (history.conf) and the topic it reads. */
  public record Settings(
      String bootstrapServers,
      String topic,
      String groupId,
      int maxStep,
      int maxBatchRows,
      long maxBatchBytes,
      int parallelism,
      long fetchMinBytes,
      Duration fetchWait,
      Duration minBackoff,
      Duration maxBackoff,
      Duration restartMinBackoff,
      Duration restartMaxBackoff,
      Duration lagInterval) {

    public static Settings fromConfig(Config config) {
      Config persister = config.getConfig("parley.history.persister");
      return new Settings(
          config.getString("parley.kafka.bootstrap-servers"),
          config.getString("parley.kafka.messages-topic"),
          persister.getString("group-id"),
          persister.getInt("max-step"),
          persister.getInt("max-batch-rows"),
          persister.getBytes("max-batch-bytes"),
          persister.getInt("parallelism"),
          persister.getBytes("fetch-min-bytes"),
          persister.getDuration("fetch-wait"),
          persister.getDuration("min-backoff"),
          persister.getDuration("max-backoff"),
          persister.getDuration("restart-min-backoff"),
          persister.getDuration("restart-max-backoff"),
          persister.getDuration("lag-interval"));
    }
  }

  private Persister(ActorSystem<?> system, MessageStore store, Settings settings) {
    this.system = system;
    this.store = store;
    this.settings = settings;
    Metrics metrics = Metrics.get(system);
    written = metrics.counter("parley_persister_written_total", "Messages written to history");
    poison =
        metrics.counter("parley_persister_unreadable_total", "Log records skipped as unreadable");
    Gauge.builder("parley_persister_lag_records", lag, AtomicLong::get)
        .description("Largest lag, in records, of this node's partitions (-1: unknown)")
        .register(metrics.registry());
  }

  /**
   * Starts consuming; Coordinated Shutdown stops it ({@link #stop}). Records in flight then are not
   * committed: the next owner of their partitions writes them again, which idempotent writes make
   * harmless.
   */
  public static Persister start(ActorSystem<?> system, MessageStore store, Settings settings) {
    Persister persister = new Persister(system, store, settings);
    persister.run();
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseServiceStop(), "parley-persister", persister::stop);
    return persister;
  }

  /** The largest lag (records) among this node's partitions, as last measured; -1 before that. */
  public long lag() {
    return lag.get();
  }

  private void run() {
    ConsumerSettings<String, byte[]> consumer =
        ConsumerSettings.create(system, new StringDeserializer(), new ByteArrayDeserializer())
            .withBootstrapServers(settings.bootstrapServers())
            .withGroupId(settings.groupId())
            .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
            .withProperty(
                ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Long.toString(settings.fetchMinBytes()))
            .withProperty(
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                Long.toString(settings.fetchWait().toMillis()));
    CommitterSettings committer =
        CommitterSettings.create(system).withMaxInterval(Duration.ofMillis(500));
    RestartSettings restart =
        RestartSettings.create(settings.restartMinBackoff(), settings.restartMaxBackoff(), 0.2);
    String topic = settings.topic();

    RestartSource.onFailuresWithBackoff(
            restart,
            () ->
                Consumer.committableSource(consumer, Subscriptions.topics(topic))
                    .mapMaterializedValue(
                        started -> {
                          control.set(started);
                          return started;
                        })
                    // Records gather while the previous step is written: steps grow with the
                    // load, and a conversation's steps are written in log order.
                    .batch(settings.maxStep(), Persister::firstOfStep, Persister::addToStep)
                    .mapAsync(1, this::persist)
                    .via(Committer.flow(committer)))
        .runWith(Sink.ignore(), system);

    Duration interval = settings.lagInterval();
    system
        .scheduler()
        .scheduleAtFixedRate(interval, interval, this::measureLag, system.executionContext());
  }

  private static List<ConsumerMessage.CommittableMessage<String, byte[]>> firstOfStep(
      ConsumerMessage.CommittableMessage<String, byte[]> first) {
    List<ConsumerMessage.CommittableMessage<String, byte[]>> step = new ArrayList<>();
    step.add(first);
    return step;
  }

  private static List<ConsumerMessage.CommittableMessage<String, byte[]>> addToStep(
      List<ConsumerMessage.CommittableMessage<String, byte[]>> step,
      ConsumerMessage.CommittableMessage<String, byte[]> next) {
    step.add(next);
    return step;
  }

  /**
   * Writes a step's rows (a batch per partition, in parallel), then raises each conversation's
   * head: a head never says a row is written before it is. The step's offsets follow.
   */
  private CompletionStage<ConsumerMessage.Committable> persist(
      List<ConsumerMessage.CommittableMessage<String, byte[]>> step) {
    List<MessageRecord> records = new ArrayList<>(step.size());
    step.forEach(message -> read(message).ifPresent(records::add));
    HistoryBatch batch =
        HistoryBatch.of(
            records, store::bucketOf, settings.maxBatchRows(), settings.maxBatchBytes());
    ConsumerMessage.Committable offsets =
        ConsumerMessage.createCommittableOffsetBatch(
            step.stream().map(ConsumerMessage.CommittableMessage::committableOffset).toList());
    return writeAll(batch.partitionBatches(), store::writeRows)
        .thenCompose(
            rowsWritten ->
                writeAll(
                    List.copyOf(batch.heads().entrySet()),
                    head -> store.raiseHead(head.getKey(), head.getValue())))
        .thenApply(
            headsRaised -> {
              written.increment(batch.records());
              return offsets;
            });
  }

  /** The record, or nothing for one that cannot be parsed (logged and counted). */
  private Optional<MessageRecord> read(ConsumerMessage.CommittableMessage<String, byte[]> message) {
    try {
      return Optional.of(Json.mapper().readValue(message.record().value(), MessageRecord.class));
    } catch (java.io.IOException | RuntimeException unreadable) {
      log.error(
          "skipping unreadable record at {}-{} offset {}: {}",
          message.record().topic(),
          message.record().partition(),
          message.record().offset(),
          unreadable.toString());
      poison.increment();
      return Optional.empty();
    }
  }

  /** Each write retried with backoff until Cassandra takes it, {@code parallelism} at a time. */
  private <T> CompletionStage<Done> writeAll(
      List<T> items, Function<T, CompletionStage<Done>> write) {
    return Source.from(items)
        .mapAsyncUnordered(settings.parallelism(), item -> untilDone(() -> write.apply(item)))
        .runWith(Sink.ignore(), system);
  }

  private CompletionStage<Done> untilDone(Callable<CompletionStage<Done>> write) {
    return Patterns.retry(
        write,
        Integer.MAX_VALUE,
        settings.minBackoff(),
        settings.maxBackoff(),
        0.2,
        system.classicSystem());
  }

  private void measureLag() {
    Consumer.Control current = control.get();
    if (current == null) {
      return;
    }
    current
        .getMetrics()
        .thenAccept(
            metrics ->
                metrics.forEach(
                    (name, metric) -> {
                      if (name.name().equals("records-lag-max")
                          && !name.tags().containsKey("topic")) {
                        lag.set(lagOf(metric));
                      }
                    }));
  }

  private static long lagOf(Metric metric) {
    Object value = metric.metricValue();
    return value instanceof Double d && !d.isNaN() ? Math.round(d) : 0;
  }

  /** Stops consuming; what is in flight is neither waited for nor committed (redelivered later). */
  public CompletionStage<Done> stop() {
    Consumer.Control current = control.get();
    return current == null
        ? CompletableFuture.completedFuture(Done.getInstance())
        : current.shutdown();
  }
}
