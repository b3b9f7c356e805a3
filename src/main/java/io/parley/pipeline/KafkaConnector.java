package io.parley.pipeline;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.kafka.ProducerSettings;

/**
 * The node's Kafka producer (acks=all, idempotent: see {@code kafka.conf}) and an admin client for
 * health checks.
 *
 * <p>A completed {@link #publish} means every in-sync replica has the record: only then may a
 * sender be acked. Records are keyed by conversation id so one conversation stays in one partition,
 * in the order of the {@link #publish} calls: the record is handed to the Kafka client on the
 * calling thread, so a single caller (the node's {@link Publisher}) fixes the order. (Pekko
 * Connectors' {@code SendProducer} hands it over on a dispatcher thread, where two calls in a row
 * may reach the client in either order.)
 *
 * <p>{@link #publish} blocks while the client has no metadata for the topic (at most {@code
 * max.block.ms}); its caller runs on a dispatcher of its own for that reason.
 */
public final class KafkaConnector implements Extension, LogWriter {

  private static final ExtensionId<KafkaConnector> ID =
      new ExtensionId<>() {
        @Override
        public KafkaConnector createExtension(ActorSystem<?> system) {
          return new KafkaConnector(system);
        }
      };

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final Producer<String, byte[]> producer;
  private final Admin admin;
  private final Duration healthTimeout;

  public static KafkaConnector get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private KafkaConnector(ActorSystem<?> system) {
    Config config = system.settings().config();
    healthTimeout = config.getDuration("parley.kafka.health-timeout");
    ProducerSettings<String, byte[]> settings =
        ProducerSettings.create(system, new StringSerializer(), new ByteArraySerializer());
    producer = settings.createKafkaProducer();
    admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.getString("parley.kafka.bootstrap-servers"),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                (int) healthTimeout.toMillis(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                (int) healthTimeout.toMillis()));
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-kafka", this::close);
  }

  /** Completes once the broker has acknowledged the record (acks=all). */
  @Override
  public CompletionStage<RecordMetadata> publish(String topic, String key, byte[] value) {
    CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
    try {
      producer.send(
          new ProducerRecord<>(topic, key, value),
          (metadata, failure) -> {
            if (failure != null) {
              acked.completeExceptionally(failure);
            } else {
              acked.complete(metadata);
            }
          });
    } catch (RuntimeException e) { // no metadata within max.block.ms, or a closed producer
      acked.completeExceptionally(new NotSent(e));
    }
    return acked;
  }

  /** The record was never handed to the Kafka client, so it surely is not in the log. */
  public static final class NotSent extends RuntimeException {
    NotSent(RuntimeException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /** True when the cluster answers a metadata request within the health timeout. */
  public CompletionStage<Boolean> reachable() {
    DescribeClusterOptions options =
        new DescribeClusterOptions().timeoutMs((int) healthTimeout.toMillis());
    return admin
        .describeCluster(options)
        .nodes()
        .toCompletionStage()
        .thenApply(nodes -> !nodes.isEmpty())
        .exceptionally(failure -> false);
  }

  private CompletionStage<Done> close() {
    // Closing flushes what is still buffered; both calls block, so off the dispatcher.
    return CompletableFuture.supplyAsync(
        () -> {
          producer.close(CLOSE_TIMEOUT);
          admin.close(healthTimeout);
          return Done.getInstance();
        });
  }
}
