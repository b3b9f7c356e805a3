package io.parley.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parley.devstack.LocalStack;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.kafka.ConsumerSettings;
import org.apache.pekko.kafka.Subscriptions;
import org.apache.pekko.kafka.javadsl.Consumer;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node's producer writes through a real broker; Pekko Connectors Kafka reads it back. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class KafkaConnectorIntegrationTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void start(LocalStack stack) {
    testKit = ActorTestKit.create("kafka-test", TestNodes.localSystem(stack));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void publishedRecordsAreConsumedInOrderWithTheirKey() throws Exception {
    String topic = "kafka-test-" + UUID.randomUUID();
    KafkaConnector kafka = KafkaConnector.get(testKit.system());
    List<String> bodies = IntStream.rangeClosed(1, 50).mapToObj(i -> "message-" + i).toList();

    long lastOffset = -1;
    for (String body : bodies) {
      RecordMetadata acked =
          kafka
              .publish(topic, "conversation-1", body.getBytes(StandardCharsets.UTF_8))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertEquals(lastOffset + 1, acked.offset(), "one record per publish, no gaps");
      lastOffset = acked.offset();
    }

    List<ConsumerRecord<String, byte[]>> consumed =
        Consumer.plainSource(consumerSettings(), Subscriptions.topics(topic))
            .take(bodies.size())
            .completionTimeout(Duration.ofSeconds(60))
            .runWith(Sink.seq(), testKit.system())
            .toCompletableFuture()
            .get(90, TimeUnit.SECONDS);

    assertEquals(
        bodies, consumed.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList());
    consumed.forEach(record -> assertEquals("conversation-1", record.key()));
    assertEquals(
        1,
        consumed.stream().map(ConsumerRecord::partition).distinct().count(),
        "one key, one partition");
  }

  /**
   * The publisher does not wait for one ack before the next send: the broker must still see the
   * records of one key in call order, or a conversation's log would hold seq 5 before seq 4.
   */
  @Test
  void backToBackPublishesKeepTheirCallOrder() throws Exception {
    String topic = "kafka-order-" + UUID.randomUUID();
    KafkaConnector kafka = KafkaConnector.get(testKit.system());
    List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>();
    for (int i = 1; i <= 500; i++) {
      acks.add(
          kafka
              .publish(topic, "conversation-1", ("m" + i).getBytes(StandardCharsets.UTF_8))
              .toCompletableFuture());
    }
    for (int i = 0; i < acks.size(); i++) {
      assertEquals(i, acks.get(i).get(60, TimeUnit.SECONDS).offset(), "offset of call " + i);
    }
  }

  @Test
  void theBrokerIsReachable() throws Exception {
    assertEquals(
        true,
        KafkaConnector.get(testKit.system())
            .reachable()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS));
  }

  private static ConsumerSettings<String, byte[]> consumerSettings() {
    return ConsumerSettings.create(
            testKit.system(), new StringDeserializer(), new ByteArrayDeserializer())
        .withBootstrapServers(
            testKit.system().settings().config().getString("parley.kafka.bootstrap-servers"))
        .withGroupId("kafka-test-" + UUID.randomUUID())
        .withProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
  }
}
