package io.parley.pipeline;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.parley.Json;
import io.parley.ops.Metrics;
import io.parley.registry.Dedup;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Writes sequenced messages to the Kafka topic, one node-local instance shared by the node's
 * conversations. On the broker's ack (acks=all) it remembers the idempotency key in Redis and
 * answers {@link Published}; only then may the sender be acked.
 *
 * <p>Order in the log: records of one conversation (one key, so one partition) are handed to the
 * Kafka client in the order they arrive here, on this actor's one thread, and the idempotent
 * producer ({@code enable.idempotence}, {@code max.in.flight.requests.per.connection} 5, the most
 * idempotence allows) keeps that order through retries.
 *
 * <p>Order of answers: only partly. The Kafka client runs the callbacks of one partition in send
 * order, on its one I/O thread, so the answers Kafka gives for one conversation ({@link Published},
 * or a failure after the record was handed over) arrive in send order. But an answer given here
 * without waiting for Kafka (the deadline passed, {@link KafkaConnector.NotSent}, or an error the
 * client raised in {@code send}) is told at once and may overtake answers still awaited for
 * earlier records. Across conversations there is no order. A caller that needs its answers in
 * order must put them in order itself.
 *
 * <p>Doubt (ADR 0008): a record is handed to Kafka only within {@code publish-deadline} of its
 * key's claim, and Kafka gives up on it within {@code delivery.timeout.ms}; so once a claim is
 * older than both plus a margin ({@link #inDoubtAfter}), no attempt of it can still reach the log.
 * A record that surely never reached the broker releases its claim at once.
 */
public final class Publisher {

  /** Node-local: neither the commands nor the results cross the cluster. */
  public interface Command {}

  /** {@code claimedAt}: when the send claimed its idempotency key. */
  public record Publish(MessageRecord record, Instant claimedAt, ActorRef<Result> replyTo)
      implements Command {}

  public sealed interface Result permits Published, PublishFailed {
    MessageRecord record();
  }

  public record Published(MessageRecord record, long offset) implements Result {}

  public record PublishFailed(MessageRecord record, String reason) implements Result {}

  /** How the publisher is bounded in time; see {@link #inDoubtAfter}. */
  public record Settings(String topic, Duration publishDeadline, Clock clock) {

    /** The messages topic and {@code parley.dedup.publish-deadline}, on the wall clock. */
    public static Settings fromConfig(Config config) {
      return new Settings(
          config.getString("parley.kafka.messages-topic"),
          config.getDuration("parley.dedup.publish-deadline"),
          Clock.systemUTC());
    }
  }

  private Publisher() {}

  /** When a claimed send with no answer can be settled from the log. */
  public static Duration inDoubtAfter(Config config) {
    Duration deliveryTimeout =
        Duration.ofMillis(config.getLong("pekko.kafka.producer.kafka-clients.delivery.timeout.ms"));
    return config
        .getDuration("parley.dedup.publish-deadline")
        .plus(deliveryTimeout)
        .plus(config.getDuration("parley.dedup.in-doubt-margin"));
  }

  public static Behavior<Command> create(
      LogWriter kafka, Settings settings, ActorRef<Dedup.Command> dedup) {
    return Behaviors.setup(
        context -> {
          Counter failures =
              Metrics.get(context.getSystem())
                  .counter(
                      "parley_kafka_publish_failures_total",
                      "Messages the broker did not ack (their senders got unavailable)");
          return Behaviors.receive(Command.class)
              .onMessage(
                  Publish.class, publish -> onPublish(kafka, settings, dedup, failures, publish))
              .build();
        });
  }

  private static Behavior<Command> onPublish(
      LogWriter kafka,
      Settings settings,
      ActorRef<Dedup.Command> dedup,
      Counter failures,
      Publish publish) {
    MessageRecord record = publish.record();
    Instant deadline = publish.claimedAt().plus(settings.publishDeadline());
    if (settings.clock().instant().isAfter(deadline)) {
      failures.increment();
      release(dedup, publish);
      publish.replyTo().tell(new PublishFailed(record, "publish deadline passed"));
      return Behaviors.same();
    }
    byte[] value = Json.write(record).getBytes(StandardCharsets.UTF_8);
    kafka
        .publish(settings.topic(), record.conversationId(), value)
        .whenComplete(
            (metadata, failure) -> {
              if (failure != null) {
                failures.increment();
                if (failure instanceof KafkaConnector.NotSent) {
                  release(dedup, publish);
                } // otherwise the record may be in the log: the claim stays, in doubt
                publish
                    .replyTo()
                    .tell(new PublishFailed(record, failure.getClass().getSimpleName()));
              } else {
                dedup.tell(
                    new Dedup.Remember(
                        record.conversationId(),
                        record.idempotencyKey(),
                        new Dedup.Original(record.seq(), record.sentAt())));
                publish.replyTo().tell(new Published(record, metadata.offset()));
              }
            });
    return Behaviors.same();
  }

  private static void release(ActorRef<Dedup.Command> dedup, Publish publish) {
    MessageRecord record = publish.record();
    dedup.tell(
        new Dedup.Release(record.conversationId(), record.idempotencyKey(), publish.claimedAt()));
  }
}
