package io.parley.pipeline;

import java.util.concurrent.CompletionStage;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Appends a record to the message log: the seam between the {@link Publisher} and Kafka ({@link
 * KafkaConnector} is the one production uses), so the publisher can be tested without a broker.
 */
public interface LogWriter {

  /**
   * Completes once the broker has acknowledged the record; fails with {@link
   * KafkaConnector.NotSent} when the record surely never reached the broker, with any other
   * failure when it may have.
   */
  CompletionStage<RecordMetadata> publish(String topic, String key, byte[] value);
}
