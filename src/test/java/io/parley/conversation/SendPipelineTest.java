package io.parley.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.conversation.Conversation.Acked;
import io.parley.conversation.Conversation.Failure;
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
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The send pipeline's rules alone: plain calls, collaborators are inboxes, no actor system. */
class SendPipelineTest {

  private static final Instant NOW = Instant.parse("2026-11-28T10:15:30.123Z");
  private static final Duration IN_DOUBT_AFTER = Duration.ofSeconds(45);
  private static final int BLOCK = 10;
  private static final List<String> MEMBERS = List.of("alice", "bob");

  private final TestInbox<Dedup.Command> dedup = TestInbox.create();
  private final TestInbox<Publisher.Command> publisher = TestInbox.create();
  private final TestInbox<Fanout.Command> fanout = TestInbox.create();
  private final TestInbox<Dedup.LookupResult> dedupReplies = TestInbox.create();
  private final TestInbox<Publisher.Result> publishReplies = TestInbox.create();
  private SendPipeline pipeline;

  @BeforeEach
  void setUp() {
    Conversation.Settings settings =
        new Conversation.Settings(
            dedup.getRef(),
            publisher.getRef(),
            fanout.getRef(),
            (users, conversation, title) -> {
              throw new AssertionError("the pipeline writes no index");
            },
            BLOCK,
            5,
            100,
            4,
            192 * 1024,
            (conversation, key, from) -> {
              throw new AssertionError("the entity searches the log");
            },
            IN_DOUBT_AFTER,
            Clock.fixed(NOW, ZoneOffset.UTC));
    pipeline = new SendPipeline("c1", settings, dedupReplies.getRef(), publishReplies.getRef());
    pipeline.recovered(100); // a durable block up to 100
  }

  private TestInbox<Reply> send(String key) {
    TestInbox<Reply> sender = TestInbox.create();
    assertEquals(
        Optional.empty(),
        pipeline.accept(
            new Conversation.Send("alice", "phone", key, "hi " + key, sender.getRef())));
    return sender;
  }

  /** Sends {@code key} and answers its lookup "free"; returns its publish. */
  private Publisher.Publish sendAndClaim(String key, TestInbox<Reply> sender) {
    assertEquals(key, ((Dedup.Lookup) dedup.receiveMessage()).idempotencyKey());
    pipeline.lookedUp(new Dedup.Claimed(key), 1000);
    return (Publisher.Publish) publisher.receiveMessage();
  }

  private Publisher.Publish sendAndClaim(String key) {
    return sendAndClaim(key, send(key));
  }

  private static long pushedSeq(Fanout.Command delivered) {
    return ((NodeRouter.Push) ((Fanout.Deliver) delivered).delivery()).record().seq();
  }

  @Test
  void aSendIsAckedAndDeliveredOnlyAfterKafkaAndIsReadableFirst() {
    TestInbox<Reply> alice = send("k1");
    Publisher.Publish publish = sendAndClaim("k1", alice);
    assertEquals(101, publish.record().seq());
    assertFalse(alice.hasMessages(), "no ack before Kafka's");
    assertFalse(fanout.hasMessages());

    pipeline.answered(new Publisher.Published(publish.record(), 0), MEMBERS);
    assertEquals(new Acked("c1", "k1", 101, NOW), alice.receiveMessage());
    assertEquals(101, pushedSeq(fanout.receiveMessage()));
    assertEquals(101, pipeline.recent().lastAcked(), "read-your-writes: in memory with its ack");
  }

  @Test
  void answersGoOutInSeqOrderWhateverOrderTheyArriveIn() {
    TestInbox<Reply> first = send("a");
    Publisher.Publish one = sendAndClaim("a", first);
    TestInbox<Reply> second = send("b");
    Publisher.Publish two = sendAndClaim("b", second);
    TestInbox<Reply> third = send("c");
    Publisher.Publish three = sendAndClaim("c", third);

    pipeline.answered(
        new Publisher.PublishFailed(three.record(), "publish deadline passed"), MEMBERS);
    pipeline.answered(new Publisher.Published(two.record(), 1), MEMBERS);
    assertFalse(second.hasMessages() || third.hasMessages(), "held behind seq 101");
    assertFalse(fanout.hasMessages());

    pipeline.answered(new Publisher.Published(one.record(), 0), MEMBERS);
    assertEquals(101, assertInstanceOf(Acked.class, first.receiveMessage()).seq());
    assertEquals(102, assertInstanceOf(Acked.class, second.receiveMessage()).seq());
    assertEquals(
        Failure.UNAVAILABLE, assertInstanceOf(Rejected.class, third.receiveMessage()).failure());
    assertEquals(
        List.of(101L, 102L),
        fanout.getAllReceived().stream().map(SendPipelineTest::pushedSeq).toList());
    assertEquals(0, pipeline.atKafka(), "nothing held once every seq is answered");
  }

  @Test
  void aRetryInFlightWaitsForTheFirstAttemptsAnswer() {
    TestInbox<Reply> first = send("k");
    TestInbox<Reply> retry = send("k");
    Publisher.Publish publish = sendAndClaim("k", first);
    assertFalse(dedup.hasMessages(), "the retry is not looked up again");
    pipeline.answered(new Publisher.Published(publish.record(), 0), MEMBERS);
    Reply ack = first.receiveMessage();
    assertEquals(ack, retry.receiveMessage());
    assertFalse(publisher.hasMessages(), "published once");
    fanout.receiveMessage();
    assertFalse(fanout.hasMessages(), "delivered once");
  }

  @Test
  void aKeyAckedBeforeIsAnsweredWithTheOriginalAckAndAFailedLookupWithUnavailable() {
    TestInbox<Reply> sender = send("k");
    Instant sentAt = NOW.minusSeconds(3600);
    pipeline.lookedUp(new Dedup.AlreadyAcked("k", new Dedup.Original(7, sentAt)), 1000);
    assertEquals(new Acked("c1", "k", 7, sentAt), sender.receiveMessage());

    TestInbox<Reply> other = send("j");
    pipeline.lookedUp(new Dedup.Failed("j"), 1000);
    assertEquals(Failure.UNAVAILABLE, ((Rejected) other.receiveMessage()).failure());
    assertFalse(publisher.hasMessages());
  }

  @Test
  void aFreshEarlierClaimSendsTheRetryBackAnOldOneIsSettledFromTheLog() {
    TestInbox<Reply> young = send("y");
    assertEquals(
        new SendPipeline.Done(),
        pipeline.lookedUp(new Dedup.ClaimedEarlier("y", NOW.minusSeconds(10)), 1000));
    assertEquals(Failure.UNAVAILABLE, ((Rejected) young.receiveMessage()).failure());

    TestInbox<Reply> old = send("o");
    Instant claimedAt = NOW.minus(IN_DOUBT_AFTER).minusSeconds(1);
    assertEquals(
        new SendPipeline.SearchLog("o", claimedAt),
        pipeline.lookedUp(new Dedup.ClaimedEarlier("o", claimedAt), 1000));
    MessageRecord written = new MessageRecord("c1", 42, "alice", "phone", "o", "hi", claimedAt);
    pipeline.settled("o", new SendPipeline.FoundInLog(written));
    assertEquals(new Acked("c1", "o", 42, claimedAt), old.receiveMessage());
    dedup.receiveMessage(); // y's lookup
    dedup.receiveMessage(); // o's lookup
    assertEquals(
        new Dedup.Remember("c1", "o", new Dedup.Original(42, claimedAt)), dedup.receiveMessage());
    assertFalse(publisher.hasMessages() || fanout.hasMessages(), "found: not published again");
  }

  @Test
  void aSendNeverWrittenTakesTheClaimOverAndIsPublished() {
    send("k");
    dedup.receiveMessage();
    pipeline.lookedUp(new Dedup.ClaimedEarlier("k", NOW.minusSeconds(3600)), 1000);
    pipeline.settled("k", new SendPipeline.NotInLog());
    Dedup.Lookup takeOver = (Dedup.Lookup) dedup.receiveMessage();
    assertTrue(takeOver.takeOverClaim());
    assertEquals(NOW, takeOver.claimAt());
    pipeline.lookedUp(new Dedup.Claimed("k"), 1000);
    assertEquals(NOW, ((Publisher.Publish) publisher.receiveMessage()).claimedAt());
  }

  @Test
  void aSeqOfAFailedPublishIsBurnt() {
    Publisher.Publish failed = sendAndClaim("k");
    pipeline.answered(new Publisher.PublishFailed(failed.record(), "TimeoutException"), MEMBERS);
    assertEquals(102, sendAndClaim("k").record().seq());
  }

  @Test
  void seqsAreReservedAheadAndAUsedUpBlockIsPersistedBeforeThePublish() {
    send("a");
    dedup.receiveMessage();
    assertEquals(
        new SendPipeline.ReserveThenPublish(110, "a"),
        pipeline.lookedUp(new Dedup.Claimed("a"), 100),
        "seq 100 was the last of the block");
    assertFalse(publisher.hasMessages(), "no seq before its block is durable");
    pipeline.publish("a");
    assertEquals(101, ((Publisher.Publish) publisher.receiveMessage()).record().seq());

    send("b");
    dedup.receiveMessage();
    assertEquals(new SendPipeline.Done(), pipeline.lookedUp(new Dedup.Claimed("b"), 110));
    assertEquals(102, ((Publisher.Publish) publisher.receiveMessage()).record().seq());

    send("c");
    dedup.receiveMessage();
    assertEquals(
        new SendPipeline.ReserveAhead(116),
        pipeline.lookedUp(new Dedup.Claimed("c"), 106),
        "fewer than half a block left: the next one is reserved while this one publishes");
    assertEquals(103, ((Publisher.Publish) publisher.receiveMessage()).record().seq());
  }

  @Test
  void aStopGivesBackUnpublishedClaimsAndWaitsForKafka() {
    Publisher.Publish atKafka = sendAndClaim("p");
    TestInbox<Reply> unpublished = send("u");
    dedup.receiveMessage();

    assertFalse(pipeline.stop(), "a send is at Kafka");
    assertEquals(new Dedup.Release("c1", "u", NOW), dedup.receiveMessage());
    assertEquals(Failure.UNAVAILABLE, ((Rejected) unpublished.receiveMessage()).failure());
    Optional<Rejected> turnedAway =
        pipeline.accept(
            new Conversation.Send("bob", "phone", "n", "x", TestInbox.<Reply>create().getRef()));
    assertEquals(Failure.UNAVAILABLE, turnedAway.orElseThrow().failure());

    assertTrue(
        pipeline.answered(new Publisher.Published(atKafka.record(), 0), MEMBERS), "stop due");
    assertEquals(101, pipeline.lastSeq());
  }

  @Test
  void aClaimBeingSettledIsNotGivenBack() {
    send("k");
    dedup.receiveMessage();
    pipeline.lookedUp(new Dedup.ClaimedEarlier("k", NOW.minusSeconds(3600)), 1000);
    assertTrue(pipeline.stop());
    assertFalse(dedup.hasMessages(), "that claim is an earlier attempt's");
  }

  @Test
  void recentMessagesStayBounded() {
    for (int i = 0; i < 6; i++) {
      Publisher.Publish publish = sendAndClaim("k" + i);
      pipeline.answered(new Publisher.Published(publish.record(), i), MEMBERS);
    }
    RecentMessages.Range all =
        pipeline.recent().between(0, Long.MAX_VALUE, 10, Conversation.Keep.OLDEST);
    assertEquals(4, all.messages().size(), "at most recent-messages");
    assertEquals(102, pipeline.recent().floor());
  }
}
