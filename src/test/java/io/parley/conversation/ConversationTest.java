package io.parley.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.parley.conversation.Conversation.Acked;
import io.parley.conversation.Conversation.Failure;
import io.parley.conversation.Conversation.Info;
import io.parley.conversation.Conversation.ReceiptKind;
import io.parley.conversation.Conversation.Receipted;
import io.parley.conversation.Conversation.Rejected;
import io.parley.conversation.Conversation.Reply;
import io.parley.pipeline.MessageRecord;
import io.parley.pipeline.Publisher;
import io.parley.registry.Dedup;
import io.parley.routing.Fanout;
import io.parley.routing.NodeRouter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The conversation entity alone: collaborators are probes, the journal is in memory. */
@ExtendWith(LogCapturingExtension.class)
class ConversationTest {

  private static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseResources("serialization.conf"))
          .withFallback(ConfigFactory.parseString("pekko.actor.allow-java-serialization = on"));

  private static ActorTestKit testKit;

  private static final int BLOCK = 10;
  private static final Instant NOW = Instant.parse("2026-11-28T10:15:30.123Z");
  private static final Duration IN_DOUBT_AFTER = Duration.ofSeconds(45);
  private static final long RECENT_REPLY_BYTES = 192 * 1024;

  private TestProbe<Dedup.Command> dedup;
  private TestProbe<Publisher.Command> publisher;
  private TestProbe<Fanout.Command> delivery;
  private TestProbe<Reply> replies;
  private EventSourcedBehaviorTestKit<Conversation.Command, Conversation.Event, Conversation.State>
      conversation;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("ConversationTest", CONFIG);
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  /** Rows the conversation wrote to the list index, as "user/conversation/title". */
  private final List<String> indexed = new CopyOnWriteArrayList<>();

  /** What the list index answers: done, unless a test holds or fails it. */
  private volatile CompletableFuture<Done> indexAnswer =
      CompletableFuture.completedFuture(Done.getInstance());

  private Conversation.MemberIndex memberIndex() {
    return (userIds, conversationId, title) -> {
      userIds.forEach(user -> indexed.add(user + "/" + conversationId + "/" + title));
      return indexAnswer;
    };
  }

  /** The Kafka log as the in-doubt search sees it: idempotency key → record. */
  private final Map<String, MessageRecord> kafkaLog = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() {
    dedup = testKit.createTestProbe();
    publisher = testKit.createTestProbe();
    delivery = testKit.createTestProbe();
    replies = testKit.createTestProbe();
    conversation =
        EventSourcedBehaviorTestKit.create(testKit.system(), Conversation.create("c1", settings()));
  }

  private Conversation.Settings settings() {
    return new Conversation.Settings(
        dedup.getRef(),
        publisher.getRef(),
        delivery.getRef(),
        memberIndex(),
        BLOCK,
        5,
        100,
        4,
        RECENT_REPLY_BYTES,
        (conversationId, key, from) ->
            CompletableFuture.completedFuture(Optional.ofNullable(kafkaLog.get(key))),
        IN_DOUBT_AFTER,
        Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private Info create(String creator, String... members) {
    conversation.runCommand(
        new Conversation.Create(creator, List.of(members), "title", replies.getRef()));
    return assertInstanceOf(Info.class, replies.receiveMessage());
  }

  @Test
  void createAddsTheCreatorFirstAndStoresTheMembers() {
    conversation.runCommand(
        new Conversation.Create("alice", List.of("bob", "alice", "carol"), "t", replies.getRef()));
    assertEquals(
        List.of("alice", "bob", "carol"),
        assertInstanceOf(Info.class, replies.receiveMessage()).members());
    assertEquals(List.of("alice", "bob", "carol"), conversation.getState().members());
    assertEquals(
        List.of("alice/c1/t", "bob/c1/t", "carol/c1/t"),
        indexed,
        "every member is indexed for the conversation list");
  }

  @Test
  void aMembershipIsSavedOnlyAfterItsListRows() {
    indexAnswer = new CompletableFuture<>();
    assertTrue(
        conversation
            .runCommand(new Conversation.Create("alice", List.of("bob"), "t", replies.getRef()))
            .hasNoEvents());
    replies.expectNoMessage(Duration.ofMillis(200));
    assertFalse(conversation.getState().exists(), "nothing saved while the rows are written");

    indexAnswer.complete(Done.getInstance());
    assertEquals(List.of("alice", "bob"), replies.expectMessageClass(Info.class).members());
    assertTrue(conversation.getState().exists());
  }

  @Test
  void aFailedListWriteRefusesTheMembershipAndSavesNothing() {
    indexAnswer = CompletableFuture.failedFuture(new IllegalStateException("Cassandra down"));
    conversation.runCommand(
        new Conversation.Create("alice", List.of("bob"), "t", replies.getRef()));
    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    assertFalse(conversation.getState().exists());

    indexAnswer = CompletableFuture.completedFuture(Done.getInstance());
    create("alice", "bob");
    indexAnswer = CompletableFuture.failedFuture(new IllegalStateException("Cassandra down"));
    conversation.runCommand(new Conversation.AddMember("bob", "carol", replies.getRef()));
    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    assertEquals(List.of("alice", "bob"), conversation.getState().members(), "carol not added");
  }

  @Test
  void createIsRefusedTwiceAndForBadInput() {
    create("alice", "bob");
    conversation.runCommand(new Conversation.Create("alice", List.of(), null, replies.getRef()));
    assertEquals(Failure.CONFLICT, rejection().failure());

    var other =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            Conversation.create(
                "c2",
                new Conversation.Settings(
                    dedup.getRef(),
                    publisher.getRef(),
                    delivery.getRef(),
                    memberIndex(),
                    BLOCK,
                    3,
                    5,
                    4,
                    RECENT_REPLY_BYTES,
                    (conversationId, key, from) -> new CompletableFuture<>(),
                    IN_DOUBT_AFTER,
                    Clock.systemUTC())));
    assertTrue(
        other
            .runCommand(new Conversation.Create("alice", List.of("b a d"), null, replies.getRef()))
            .hasNoEvents());
    assertEquals(Failure.INVALID, rejection().failure());
    assertTrue(
        other
            .runCommand(
                new Conversation.Create("alice", List.of("b", "c", "d"), null, replies.getRef()))
            .hasNoEvents());
    assertEquals(Failure.INVALID, rejection().failure(), "more than max members");
    assertTrue(
        other
            .runCommand(new Conversation.Create("alice", List.of(), "too long", replies.getRef()))
            .hasNoEvents());
    assertEquals(Failure.INVALID, rejection().failure(), "title over the limit");
  }

  @Test
  void onlyMembersReadAndGrowTheConversation() {
    conversation.runCommand(new Conversation.GetInfo("alice", replies.getRef()));
    assertEquals(Failure.NOT_FOUND, rejection().failure());
    create("alice", "bob");

    conversation.runCommand(new Conversation.GetInfo("mallory", replies.getRef()));
    assertEquals(Failure.FORBIDDEN, rejection().failure());
    assertTrue(
        conversation
            .runCommand(new Conversation.AddMember("mallory", "eve", replies.getRef()))
            .hasNoEvents());
    assertEquals(Failure.FORBIDDEN, rejection().failure());

    conversation.runCommand(new Conversation.AddMember("bob", "carol", replies.getRef()));
    assertEquals(
        List.of("alice", "bob", "carol"),
        assertInstanceOf(Info.class, replies.receiveMessage()).members());
    assertTrue(
        conversation
            .runCommand(new Conversation.AddMember("bob", "carol", replies.getRef()))
            .hasNoEvents(),
        "adding a member twice changes nothing");
    replies.expectMessageClass(Info.class);
  }

  @Test
  void aNonMemberCannotSend() {
    create("alice", "bob");
    conversation.runCommand(send("mallory", key()));
    assertEquals(Failure.FORBIDDEN, rejection().failure());
    dedup.expectNoMessage();
  }

  @Test
  void aSendIsAckedAndDeliveredOnlyAfterTheBrokerAck() {
    create("alice", "bob");
    String key = key();
    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.empty());

    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);
    assertEquals(1, publish.record().seq());
    assertEquals("hello", publish.record().body());
    replies.expectNoMessage();
    delivery.expectNoMessage();

    publish.replyTo().tell(new Publisher.Published(publish.record(), 0));
    assertEquals(new Acked("c1", key, 1, NOW), replies.receiveMessage());
    Fanout.Deliver delivered = (Fanout.Deliver) delivery.receiveMessage();
    assertEquals(List.of("alice", "bob"), delivered.members());
    assertEquals(1, pushed(delivered).seq());
    assertEquals(
        BLOCK, conversation.getState().reservedUpTo(), "a block was reserved before seq 1");
  }

  @Test
  void aRetryInFlightWaitsForTheSameAck() {
    create("alice", "bob");
    String key = key();
    conversation.runCommand(send("alice", key));
    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.empty());
    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);
    dedup.expectNoMessage();
    publish.replyTo().tell(new Publisher.Published(publish.record(), 0));

    Acked first = assertInstanceOf(Acked.class, replies.receiveMessage());
    assertEquals(first, replies.receiveMessage());
    publisher.expectNoMessage();
    delivery.receiveMessage();
    delivery.expectNoMessage();
  }

  @Test
  void acksAndDeliveriesFollowSeqOrderWhateverOrderKafkaAnswersIn() {
    create("alice", "bob");
    List<Publisher.Publish> publishes = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String key = key();
      conversation.runCommand(send("alice", key));
      answerLookup(key, Optional.empty());
      publishes.add(publisher.expectMessageClass(Publisher.Publish.class));
    }
    Publisher.Publish third = publishes.get(2);
    third.replyTo().tell(new Publisher.Published(third.record(), 2));
    replies.expectNoMessage();
    delivery.expectNoMessage();

    Publisher.Publish first = publishes.get(0);
    first.replyTo().tell(new Publisher.Published(first.record(), 0));
    assertEquals(1, assertInstanceOf(Acked.class, replies.receiveMessage()).seq());
    assertEquals(1, pushed((Fanout.Deliver) delivery.receiveMessage()).seq());
    replies.expectNoMessage();

    Publisher.Publish second = publishes.get(1);
    second.replyTo().tell(new Publisher.PublishFailed(second.record(), "TimeoutException"));
    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    assertEquals(3, assertInstanceOf(Acked.class, replies.receiveMessage()).seq());
    assertEquals(3, pushed((Fanout.Deliver) delivery.receiveMessage()).seq());
  }

  @Test
  void recentMessagesServeReadsWithoutCassandraAndStayBounded() {
    create("alice", "bob");
    for (int i = 1; i <= 6; i++) {
      sendAndAck("alice");
    }
    conversation.runCommand(
        new Conversation.GetRecent(
            "bob", 0, Long.MAX_VALUE, 10, Conversation.Keep.OLDEST, replies.getRef()));
    Conversation.Recent recent =
        assertInstanceOf(Conversation.Recent.class, replies.receiveMessage());
    assertEquals(
        List.of(3L, 4L, 5L, 6L),
        recent.messages().stream().map(m -> m.seq()).toList(),
        "the newest 4 are kept");
    assertEquals(2, recent.floor(), "everything above the floor is held");
    assertEquals(6, recent.lastAcked());

    conversation.runCommand(
        new Conversation.GetRecent("bob", 3, 6, 1, Conversation.Keep.NEWEST, replies.getRef()));
    assertEquals(
        List.of(5L),
        assertInstanceOf(Conversation.Recent.class, replies.receiveMessage()).messages().stream()
            .map(m -> m.seq())
            .toList());

    conversation.runCommand(
        new Conversation.GetRecent(
            "mallory", 0, Long.MAX_VALUE, 10, Conversation.Keep.OLDEST, replies.getRef()));
    assertEquals(Failure.FORBIDDEN, rejection().failure());
  }

  @Test
  void aSendWaitingForAReservationThatFailsGivesItsClaimBackAndIsToldToRetry() {
    create("alice", "bob");
    String key = key();
    conversation.persistenceTestKit().failNextPersisted(); // the first send's SeqReserved
    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.empty());

    assertEquals(
        new Dedup.Release("c1", key, NOW),
        dedup.expectMessageClass(Dedup.Release.class),
        "its claim goes, so the retry need not wait for it to be in doubt");
    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    publisher.expectNoMessage();
  }

  @Test
  void aKnownIdempotencyKeyIsAnsweredWithTheOriginalAck() {
    create("alice", "bob");
    String key = key();
    Instant original = Instant.parse("2026-11-27T08:00:00Z");
    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.of(new Dedup.Original(7, original)));

    assertEquals(new Acked("c1", key, 7, original), replies.receiveMessage());
    publisher.expectNoMessage();
    delivery.expectNoMessage();
  }

  @Test
  void aRetryFindingAFreshClaimOfAnEarlierAttemptIsToldToComeBack() {
    create("alice", "bob");
    String key = key();
    conversation.runCommand(send("alice", key));
    answerLookupWithEarlierClaim(key, NOW.minusSeconds(10)); // that attempt may still reach Kafka

    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    publisher.expectNoMessage();
  }

  @Test
  void aSendLeftInDoubtThatReachedTheLogIsAnsweredWithItsOriginalAck() {
    create("alice", "bob");
    String key = key();
    Instant sentAt = NOW.minusSeconds(120);
    kafkaLog.put(key, new MessageRecord("c1", 42, "alice", "phone", key, "hello", sentAt));
    conversation.runCommand(send("alice", key));
    answerLookupWithEarlierClaim(key, NOW.minus(IN_DOUBT_AFTER).minusSeconds(1));

    assertEquals(new Acked("c1", key, 42, sentAt), replies.receiveMessage());
    assertEquals(
        new Dedup.Remember("c1", key, new Dedup.Original(42, sentAt)),
        dedup.expectMessageClass(Dedup.Remember.class));
    publisher.expectNoMessage();
    delivery.expectNoMessage();
  }

  @Test
  void aSendLeftInDoubtThatNeverReachedTheLogTakesTheClaimOverAndIsPublished() {
    create("alice", "bob");
    String key = key();
    conversation.runCommand(send("alice", key));
    answerLookupWithEarlierClaim(key, NOW.minus(IN_DOUBT_AFTER).minusSeconds(1));

    Dedup.Lookup takeOver = dedup.expectMessageClass(Dedup.Lookup.class);
    assertTrue(takeOver.takeOverClaim());
    assertEquals(NOW, takeOver.claimAt());
    takeOver.replyTo().tell(new Dedup.Claimed(key));
    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);
    assertEquals(1, publish.record().seq());
    assertEquals(NOW, publish.claimedAt(), "the publish deadline counts from the new claim");
  }

  @Test
  void redisOrKafkaFailuresAnswerUnavailable() {
    create("alice", "bob");
    String key = key();
    conversation.runCommand(send("alice", key));
    Dedup.Lookup lookup = dedup.expectMessageClass(Dedup.Lookup.class);
    lookup.replyTo().tell(new Dedup.Failed(key));
    assertEquals(Failure.UNAVAILABLE, rejection().failure());

    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.empty());
    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);
    publish.replyTo().tell(new Publisher.PublishFailed(publish.record(), "TimeoutException"));
    assertEquals(Failure.UNAVAILABLE, rejection().failure());
    delivery.expectNoMessage();

    conversation.runCommand(send("alice", key));
    answerLookup(key, Optional.empty());
    assertEquals(
        2,
        publisher.expectMessageClass(Publisher.Publish.class).record().seq(),
        "a seq handed to a failed publish is never reused");
  }

  @Test
  void seqsAreDenseAndBlocksAreReservedAhead() {
    create("alice", "bob");
    for (int i = 1; i <= 25; i++) {
      assertEquals(i, sendAndAck("alice").seq());
    }
    assertTrue(
        conversation.getState().reservedUpTo() - 25 >= BLOCK / 2,
        "the next block is reserved before the current one runs out");
  }

  @Test
  void afterACrashSeqsContinueAfterTheReservation() {
    create("alice", "bob");
    for (int i = 1; i <= 3; i++) {
      sendAndAck("alice");
    }
    long reserved = conversation.getState().reservedUpTo();
    conversation.restart();
    assertEquals(reserved + 1, sendAndAck("alice").seq(), "never reused, may jump");
  }

  @Test
  void aStopWaitsForKafkasAnswerToTheSendsInFlight() {
    String id = "c-" + UUID.randomUUID();
    ActorRef<Conversation.Command> first = spawnCreated(id);
    String key = key();
    first.tell(send("alice", key));
    answerLookup(key, Optional.empty());
    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);

    first.tell(Conversation.stop());
    first.tell(send("bob", key()));
    assertEquals(
        Failure.UNAVAILABLE,
        rejection().failure(),
        "still running after the stop, a new send turned away");
    publisher.expectNoMessage(Duration.ofMillis(100));

    TestProbe<Object> watcher = testKit.createTestProbe();
    publish.replyTo().tell(new Publisher.Published(publish.record(), publish.record().seq()));
    assertEquals(1, assertInstanceOf(Acked.class, replies.receiveMessage()).seq());
    delivery.receiveMessage();
    watcher.expectTerminated(first);

    ActorRef<Conversation.Command> second = testKit.spawn(Conversation.create(id, settings()));
    assertEquals(2, sendAndAck(second, "alice").seq(), "the stop checkpointed seq 1");
  }

  @Test
  void afterACleanStopSeqsStayDense() {
    String id = "c-" + UUID.randomUUID();
    ActorRef<Conversation.Command> first = spawnCreated(id);
    for (int i = 1; i <= 3; i++) {
      assertEquals(i, sendAndAck(first, "alice").seq());
    }
    TestProbe<Object> watcher = testKit.createTestProbe();
    first.tell(Conversation.stop()); // what sharding sends on passivation and hand-off
    watcher.expectTerminated(first);

    ActorRef<Conversation.Command> second = testKit.spawn(Conversation.create(id, settings()));
    assertEquals(4, sendAndAck(second, "alice").seq(), "no jump after a clean stop");
  }

  @Test
  void readReceiptsAreStoredCumulativeAndForwardedToTheOtherDevices() {
    create("alice", "bob");
    for (int i = 1; i <= 3; i++) {
      sendAndAck("alice");
    }
    var marked = conversation.runCommand(receipt("bob", 2, ReceiptKind.READ));
    assertEquals(new Conversation.ReadMarked("c1", "bob", 2), marked.event());
    assertEquals(new Receipted("c1", 2), replies.receiveMessage());
    Fanout.Deliver forwarded = (Fanout.Deliver) delivery.receiveMessage();
    assertEquals(new NodeRouter.ReceiptPush("c1", "bob", 2, "read"), forwarded.delivery());
    assertEquals(new NodeRouter.Recipient("bob", "laptop"), forwarded.except());
    assertEquals(List.of("alice", "bob"), forwarded.members(), "bob's other devices too");

    var older = conversation.runCommand(receipt("bob", 1, ReceiptKind.READ));
    assertTrue(older.events().isEmpty(), "cumulative: an older mark changes nothing");
    assertEquals(new Receipted("c1", 2), replies.receiveMessage());
    delivery.expectNoMessage();

    conversation.runCommand(new Conversation.GetInfo("bob", replies.getRef()));
    assertEquals(2, assertInstanceOf(Info.class, replies.receiveMessage()).readSeq());
    conversation.restart();
    conversation.runCommand(new Conversation.GetInfo("bob", replies.getRef()));
    assertEquals(2, assertInstanceOf(Info.class, replies.receiveMessage()).readSeq(), "recovered");
    conversation.runCommand(new Conversation.GetInfo("alice", replies.getRef()));
    assertEquals(0, assertInstanceOf(Info.class, replies.receiveMessage()).readSeq());
  }

  @Test
  void deliveredReceiptsAreForwardedWhenTheyGrowAndNotStored() {
    create("alice", "bob");
    sendAndAck("alice");
    sendAndAck("alice");
    var delivered = conversation.runCommand(receipt("bob", 2, ReceiptKind.DELIVERED));
    assertTrue(delivered.events().isEmpty());
    assertEquals(new Receipted("c1", 0), replies.receiveMessage());
    assertEquals(
        new NodeRouter.ReceiptPush("c1", "bob", 2, "delivered"),
        ((Fanout.Deliver) delivery.receiveMessage()).delivery());
    conversation.runCommand(receipt("bob", 2, ReceiptKind.DELIVERED));
    replies.receiveMessage();
    delivery.expectNoMessage();
  }

  @Test
  void receiptsForUnknownSeqsOrFromNonMembersAreRefused() {
    create("alice", "bob");
    sendAndAck("alice");
    conversation.runCommand(receipt("bob", 2, ReceiptKind.READ));
    assertEquals(Failure.INVALID, rejection().failure());
    conversation.runCommand(receipt("bob", 0, ReceiptKind.READ));
    assertEquals(Failure.INVALID, rejection().failure());
    conversation.runCommand(receipt("mallory", 1, ReceiptKind.READ));
    assertEquals(Failure.FORBIDDEN, rejection().failure());
    delivery.expectNoMessage();
  }

  private Conversation.MarkReceipt receipt(String user, long seq, ReceiptKind kind) {
    return new Conversation.MarkReceipt(user, "laptop", seq, kind, replies.getRef());
  }

  /** The message a delivery pushes. */
  private static MessageRecord pushed(Fanout.Deliver deliver) {
    return assertInstanceOf(NodeRouter.Push.class, deliver.delivery()).record();
  }

  /** A conversation of alice and bob, as an actor of its own (to stop and start again). */
  private ActorRef<Conversation.Command> spawnCreated(String id) {
    ActorRef<Conversation.Command> created = testKit.spawn(Conversation.create(id, settings()));
    created.tell(new Conversation.Create("alice", List.of("bob"), null, replies.getRef()));
    replies.expectMessageClass(Info.class);
    return created;
  }

  private Acked sendAndAck(String sender) {
    return sendAndAck(null, sender);
  }

  /** Through the behavior test kit, or straight to {@code ref} when one is given. */
  private Acked sendAndAck(ActorRef<Conversation.Command> ref, String sender) {
    String key = key();
    if (ref == null) {
      conversation.runCommand(send(sender, key));
    } else {
      ref.tell(send(sender, key));
    }
    answerLookup(key, Optional.empty());
    Publisher.Publish publish = publisher.expectMessageClass(Publisher.Publish.class);
    publish.replyTo().tell(new Publisher.Published(publish.record(), publish.record().seq()));
    delivery.receiveMessage();
    return assertInstanceOf(Acked.class, replies.receiveMessage());
  }

  private void answerLookup(String key, Optional<Dedup.Original> original) {
    Dedup.Lookup lookup = dedup.expectMessageClass(Dedup.Lookup.class);
    assertEquals(key, lookup.idempotencyKey());
    lookup
        .replyTo()
        .tell(
            original
                .<Dedup.LookupResult>map(found -> new Dedup.AlreadyAcked(key, found))
                .orElseGet(() -> new Dedup.Claimed(key)));
  }

  private void answerLookupWithEarlierClaim(String key, Instant claimedAt) {
    Dedup.Lookup lookup = dedup.expectMessageClass(Dedup.Lookup.class);
    assertEquals(NOW, lookup.claimAt(), "a send claims its key as it looks it up");
    lookup.replyTo().tell(new Dedup.ClaimedEarlier(key, claimedAt));
  }

  private Rejected rejection() {
    return assertInstanceOf(Rejected.class, replies.receiveMessage());
  }

  private Conversation.Send send(String sender, String key) {
    return new Conversation.Send(sender, "phone", key, "hello", replies.getRef());
  }

  private static String key() {
    return UUID.randomUUID().toString();
  }
}
