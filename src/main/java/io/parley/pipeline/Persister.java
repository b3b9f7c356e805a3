package io.parley.pipeline;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.parley.Json;
import io.parley.history.MessageStore;
import io.parley.ops.Metrics;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the message log from Kafka into Cassandra history. Every node runs one member of the
 * consumer group, so partitions spread over the nodes.
 *
 * <p>At least once, and harmless when more: a record's offset is committed only after its write
 * (offsets of a partition are committed in order), a failed write is retried with backoff for as
 * long as Cassandra is down (Kafka keeps the backlog; nothing is skipped), and a restarted consumer
 * resumes from the last committed offset; writes are idempotent. A record that cannot be parsed is
 * logged, counted and skipped: one poison record must not stop history.
 */
public final class Persister {

  private static final Logger log = LoggerFactory.getLogger(Persister.class);

  private final ActorSystem<?> system;
  private final MessageStore store;
  private final Config settings;
  private final AtomicReference<Consumer.Control> control = new AtomicReference<>();
  private final AtomicLong lag = new AtomicLong(-1);
  private final Counter written;
  private final Counter poison;

  private Persister(ActorSystem<?> system, MessageStore store) {
    this.system = system;
    this.store = store;
    this.settings = system.settings().config().getConfig("parley.history.persister");
    Metrics metrics = Metrics.get(system);
    written = metrics.counter("parley_persister_written_total", "Messages written to history");
    poison =
        metrics.counter("parley_persister_unreadable_total", "Log records skipped as unreadable");
    Gauge.builder("parley_persister_lag_records", lag, AtomicLong::get)
        .description("Largest lag, in records, of this node's partitions (-1: unknown)")
        .register(metrics.registry());
  }

  /** Starts consuming; the consumer drains and commits in Coordinated Shutdown. */
  public static Persister start(ActorSystem<?> system, MessageStore store) {
    Persister persister = new Persister(system, store);
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
    Config config = system.settings().config();
    ConsumerSettings<String, byte[]> consumer =
        ConsumerSettings.create(system, new StringDeserializer(), new ByteArrayDeserializer())
            .withBootstrapServers(config.getString("parley.kafka.bootstrap-servers"))
            .withGroupId(settings.getString("group-id"))
            .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    CommitterSettings committer =
        CommitterSettings.create(system).withMaxInterval(Duration.ofMillis(500));
    RestartSettings restart =
        RestartSettings.create(
            settings.getDuration("restart-min-backoff"),
            settings.getDuration("restart-max-backoff"),
            0.2);
    String topic = config.getString("parley.kafka.messages-topic");
    int parallelism = settings.getInt("parallelism");

    RestartSource.onFailuresWithBackoff(
            restart,
            () ->
                Consumer.committableSource(consumer, Subscriptions.topics(topic))
                    .mapMaterializedValue(
                        started -> {
                          control.set(started);
                          return started;
                        })
                    .mapAsync(parallelism, this::persist)
                    .via(Committer.flow(committer)))
        .runWith(Sink.ignore(), system);

    Duration interval = settings.getDuration("lag-interval");
    system
        .scheduler()
        .scheduleAtFixedRate(interval, interval, this::measureLag, system.executionContext());
  }

  private CompletionStage<ConsumerMessage.CommittableOffset> persist(
      ConsumerMessage.CommittableMessage<String, byte[]> message) {
    MessageRecord record;
    try {
      record = Json.mapper().readValue(message.record().value(), MessageRecord.class);
    } catch (java.io.IOException | RuntimeException unreadable) {
      log.error(
          "skipping unreadable record at {}-{} offset {}: {}",
          message.record().topic(),
          message.record().partition(),
          message.record().offset(),
          unreadable.toString());
      poison.increment();
      return CompletableFuture.completedFuture(message.committableOffset());
    }
    return writeUntilDone(record)
        .thenApply(
            done -> {
              written.increment();
              return message.committableOffset();
            });
  }

  /** Retries with exponential backoff until Cassandra takes the write. */
  private CompletionStage<Done> writeUntilDone(MessageRecord record) {
    return Patterns.retry(
        () -> store.write(record),
        Integer.MAX_VALUE,
        settings.getDuration("min-backoff"),
        settings.getDuration("max-backoff"),
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
