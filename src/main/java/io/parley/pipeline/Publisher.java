package io.parley.pipeline;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.parley.CborSerializable;
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
 * <p>Order: records of one conversation are sent in the order they arrive here and the idempotent
 * producer keeps that order within the partition, so answers also arrive in order.
 *
 * <p>Doubt (ADR 0008): a record is handed to Kafka only within {@code publish-deadline} of its
 * key's claim, and Kafka gives up on it within {@code delivery.timeout.ms}; so once a claim is
 * older than both plus a margin ({@link #inDoubtAfter}), no attempt of it can still reach the log.
 * A record that surely never reached the broker releases its claim at once.
 */
public final class Publisher {

  public interface Command extends CborSerializable {}

  /** {@code claimedAt}: when the send claimed its idempotency key. */
  public record Publish(MessageRecord record, Instant claimedAt, ActorRef<Result> replyTo)
      implements Command {}

  public sealed interface Result extends CborSerializable permits Published, PublishFailed {
    MessageRecord record();
  }

  public record Published(MessageRecord record, long offset) implements Result {}

  public record PublishFailed(MessageRecord record, String reason) implements Result {}

  /** How the publisher is bounded in time; see {@link #inDoubtAfter}. */
  public record Settings(String topic, Duration publishDeadline, Clock clock) {}

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
      KafkaConnector kafka, Settings settings, ActorRef<Dedup.Command> dedup) {
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
      KafkaConnector kafka,
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
