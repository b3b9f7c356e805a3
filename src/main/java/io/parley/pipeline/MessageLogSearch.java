package io.parley.pipeline;

import com.typesafe.config.Config;
import io.parley.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * Finds a conversation's message in the Kafka log by its idempotency key, from a point in time to
 * the end of the log. It settles a send left in doubt (ADR 0008): a node claimed the key, then died
 * or lost its answer, and only the log knows whether the message was written.
 *
 * <p>Only the one partition the conversation's records go to is read (the producer's partitioner:
 * murmur2 of the key), from the offset at {@code from} on. A rare path: a fresh consumer per
 * search.
 */
public final class MessageLogSearch {

  /** Records before a claim's time by up to this much are read too (clocks of two nodes). */
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(5);

  private static final Duration POLL = Duration.ofMillis(500);

  private final String bootstrapServers;
  private final String topic;
  private final Duration deadline;
  private final Executor blocking;

  public MessageLogSearch(
      String bootstrapServers, String topic, Duration deadline, Executor blocking) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.deadline = deadline;
    this.blocking = blocking;
  }

  /** The messages topic, searched within {@code parley.dedup.log-search-timeout}, blocking. */
  public static MessageLogSearch fromConfig(ActorSystem<?> system) {
    Config config = system.settings().config();
    return new MessageLogSearch(
        config.getString("parley.kafka.bootstrap-servers"),
        config.getString("parley.kafka.messages-topic"),
        config.getDuration("parley.dedup.log-search-timeout"),
        system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  /**
   * The record of {@code conversationId} with {@code idempotencyKey} written since {@code from}.
   */
  public CompletionStage<Optional<MessageRecord>> find(
      String conversationId, String idempotencyKey, Instant from) {
    return CompletableFuture.supplyAsync(
        () -> search(conversationId, idempotencyKey, from), blocking);
  }

  private Optional<MessageRecord> search(
      String conversationId, String idempotencyKey, Instant from) {
    try (Consumer<String, byte[]> consumer = consumer()) {
      TopicPartition partition = partitionOf(consumer, conversationId);
      consumer.assign(List.of(partition));
      long start = from.minus(CLOCK_SKEW).toEpochMilli();
      OffsetAndTimestamp first =
          consumer.offsetsForTimes(Map.of(partition, start), deadline).get(partition);
      if (first == null) {
        return Optional.empty(); // nothing written to this partition since then
      }
      long end = consumer.endOffsets(List.of(partition), deadline).get(partition);
      consumer.seek(partition, first.offset());
      Instant giveUp = Instant.now().plus(deadline);
      while (consumer.position(partition, deadline) < end) {
        if (Instant.now().isAfter(giveUp)) {
          throw new IllegalStateException("log search took longer than " + deadline);
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          Optional<MessageRecord> match = match(record, conversationId, idempotencyKey);
          if (match.isPresent()) {
            return match;
          }
        }
      }
      return Optional.empty();
    }
  }

  private static Optional<MessageRecord> match(
      ConsumerRecord<String, byte[]> record, String conversationId, String idempotencyKey) {
    if (!conversationId.equals(record.key())) {
      return Optional.empty();
    }
    MessageRecord message;
    try {
      message = Json.mapper().readValue(record.value(), MessageRecord.class);
    } catch (IOException unreadable) {
      return Optional.empty(); // the persister reports such records; they are nobody's message
    }
    return idempotencyKey.equals(message.idempotencyKey())
        ? Optional.of(message)
        : Optional.empty();
  }

  /** The partition the producer's default partitioner picks for this key. */
  private TopicPartition partitionOf(Consumer<String, byte[]> consumer, String conversationId) {
    List<PartitionInfo> partitions = consumer.partitionsFor(topic, deadline);
    byte[] key = conversationId.getBytes(StandardCharsets.UTF_8);
    return new TopicPartition(topic, Utils.toPositive(Utils.murmur2(key)) % partitions.size());
  }

  private Consumer<String, byte[]> consumer() {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) deadline.toMillis()),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }
}
