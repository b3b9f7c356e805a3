package io.parley.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.registry.Dedup;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The publisher alone: Kafka is a fake whose answers the test gives, dedup is a probe. */
@ExtendWith(LogCapturingExtension.class)
class PublisherTest {

  private static final String TOPIC = "parley.messages";
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  private static ActorTestKit testKit;

  /** One record handed to the fake Kafka, and the answer the test will give it. */
  private record Sent(
      String topic, String key, String value, CompletableFuture<RecordMetadata> ack) {}

  private final BlockingQueue<Sent> kafka = new LinkedBlockingQueue<>();
  private final LogWriter log =
      (topic, key, value) -> {
        CompletableFuture<RecordMetadata> ack = new CompletableFuture<>();
        kafka.add(new Sent(topic, key, new String(value, StandardCharsets.UTF_8), ack));
        return ack;
      };

  private TestProbe<Dedup.Command> dedup;
  private TestProbe<Publisher.Result> replies;
  private ActorRef<Publisher.Command> publisher;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("PublisherTest");
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void spawnPublisher() {
    dedup = testKit.createTestProbe();
    replies = testKit.createTestProbe();
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    publisher =
        testKit.spawn(
            Publisher.create(log, new Publisher.Settings(TOPIC, DEADLINE, clock), dedup.getRef()));
  }

  private static MessageRecord record(long seq) {
    return new MessageRecord("c1", seq, "alice", "phone", "key-" + seq, "hi " + seq, NOW);
  }

  private void publish(long seq, Instant claimedAt) {
    publisher.tell(new Publisher.Publish(record(seq), claimedAt, replies.getRef()));
  }

  private Sent handedToKafka() throws InterruptedException {
    Sent sent = kafka.poll(5, TimeUnit.SECONDS);
    assertTrue(sent != null, "nothing was handed to Kafka");
    return sent;
  }

  private static RecordMetadata at(long offset) {
    return new RecordMetadata(new TopicPartition(TOPIC, 0), offset, 0, 0L, 0, 0);
  }

  @Test
  void anAckedRecordIsRememberedThenAnsweredPublished() throws InterruptedException {
    publish(1, NOW);
    Sent sent = handedToKafka();
    assertEquals(TOPIC, sent.topic());
    assertEquals("c1", sent.key()); // one conversation, one partition
    assertTrue(sent.value().contains("\"idempotencyKey\":\"key-1\""), sent.value());
    replies.expectNoMessage(Duration.ofMillis(200)); // no answer before the broker's ack

    sent.ack().complete(at(42));

    assertEquals(
        new Dedup.Remember("c1", "key-1", new Dedup.Original(1, NOW)),
        dedup.expectMessageClass(Dedup.Remember.class));
    assertEquals(new Publisher.Published(record(1), 42), replies.receiveMessage());
  }

  @Test
  void aRecordPastItsDeadlineIsNeverSentItsClaimIsReleasedAndItFails() {
    Instant claimedAt = NOW.minus(DEADLINE).minusMillis(1);
    publish(1, claimedAt);

    assertEquals(new Dedup.Release("c1", "key-1", claimedAt), dedup.receiveMessage());
    assertEquals(
        new Publisher.PublishFailed(record(1), "publish deadline passed"),
        replies.receiveMessage());
    assertTrue(kafka.isEmpty(), "a record past its deadline reached Kafka");
  }

  @Test
  void aRecordAtItsDeadlineIsStillSent() throws InterruptedException {
    publish(1, NOW.minus(DEADLINE));
    handedToKafka();
  }

  @Test
  void aRecordThatSurelyNeverReachedTheBrokerReleasesItsClaim() throws InterruptedException {
    publish(1, NOW);
    RuntimeException noMetadata = new IllegalStateException("no metadata");
    handedToKafka().ack().completeExceptionally(new KafkaConnector.NotSent(noMetadata));

    assertEquals(new Dedup.Release("c1", "key-1", NOW), dedup.receiveMessage());
    assertEquals(new Publisher.PublishFailed(record(1), "NotSent"), replies.receiveMessage());
  }

  @Test
  void aRecordThatMayBeInTheLogKeepsItsClaimInDoubt() throws InterruptedException {
    publish(1, NOW);
    handedToKafka().ack().completeExceptionally(new TimeoutException("delivery.timeout.ms"));

    Publisher.Result failed = replies.receiveMessage();
    assertEquals(new Publisher.PublishFailed(record(1), "TimeoutException"), failed);
    dedup.expectNoMessage(Duration.ofMillis(300)); // neither released nor remembered
  }

  @Test
  void answersFollowKafkaButAnAnswerGivenAtOnceOvertakesThoseAwaited()
      throws InterruptedException {
    publish(1, NOW);
    publish(2, NOW);
    Sent first = handedToKafka();
    Sent second = handedToKafka();
    assertTrue(first.value().contains("\"seq\":1"), "handed over out of order: " + first.value());
    assertTrue(second.value().contains("\"seq\":2"), "handed over out of order: " + second.value());
    publish(3, NOW.minus(DEADLINE).minusSeconds(1)); // answered without Kafka

    Publisher.Result overtaking = replies.receiveMessage();
    assertEquals(3, assertInstanceOf(Publisher.PublishFailed.class, overtaking).record().seq());
    first.ack().complete(at(0));
    second.ack().complete(at(1));
    assertEquals(new Publisher.Published(record(1), 0), replies.receiveMessage());
    assertEquals(new Publisher.Published(record(2), 1), replies.receiveMessage());
  }
}
