package io.parley.pipeline;

import io.micrometer.core.instrument.Counter;
import io.parley.CborSerializable;
import io.parley.Json;
import io.parley.ops.Metrics;
import io.parley.registry.Dedup;
import java.nio.charset.StandardCharsets;
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
 */
public final class Publisher {

  public interface Command extends CborSerializable {}

  public record Publish(MessageRecord record, ActorRef<Result> replyTo) implements Command {}

  public sealed interface Result extends CborSerializable permits Published, PublishFailed {
    MessageRecord record();
  }

  public record Published(MessageRecord record, long offset) implements Result {}

  public record PublishFailed(MessageRecord record, String reason) implements Result {}

  private Publisher() {}

  public static Behavior<Command> create(
      KafkaConnector kafka, String topic, ActorRef<Dedup.Command> dedup) {
    return Behaviors.setup(
        context -> {
          Counter failures =
              Metrics.get(context.getSystem())
                  .counter(
                      "parley_kafka_publish_failures_total",
                      "Messages the broker did not ack (their senders got unavailable)");
          return Behaviors.receive(Command.class)
              .onMessage(
                  Publish.class, publish -> onPublish(kafka, topic, dedup, failures, publish))
              .build();
        });
  }

  private static Behavior<Command> onPublish(
      KafkaConnector kafka,
      String topic,
      ActorRef<Dedup.Command> dedup,
      Counter failures,
      Publish publish) {
    MessageRecord record = publish.record();
    byte[] value = Json.write(record).getBytes(StandardCharsets.UTF_8);
    kafka
        .publish(topic, record.conversationId(), value)
        .whenComplete(
            (metadata, failure) -> {
              if (failure != null) {
                failures.increment();
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
}
