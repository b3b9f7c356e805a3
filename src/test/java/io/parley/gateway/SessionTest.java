package io.parley.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.ops.NodeConfig;
import io.parley.pipeline.MessageRecord;
import io.parley.presence.PresenceHub;
import io.parley.registry.ConnectionRegistry;
import io.parley.registry.RedisConnector;
import io.parley.routing.NodeRouter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A session's outbound buffering, against a real stream whose demand the test controls. Redis is
 * unreachable on purpose: a session must still serve its socket when the registry fails.
 */
@ExtendWith(LogCapturingExtension.class)
class SessionTest {

  private static final int CAPACITY = 8;

  /** Long enough never to expire while a test reads; short where the expiry is the point. */
  private static final Duration PATIENT = Duration.ofMinutes(5);

  private static final Duration IMPATIENT = Duration.ofMillis(500);
  private static ActorTestKit testKit;

  private TestProbe<NodeRouter.Local> router;
  private TestProbe<PresenceHub.Local> presence;
  private TestSubscriber.Probe<ServerFrame> client;
  private BoundedSourceQueue<ServerFrame> buffer;
  private ActorRef<Session.Command> session;

  @BeforeAll
  static void startTestKit() {
    testKit =
        ActorTestKit.create(
            "SessionTest",
            NodeConfig.load(
                Map.of(
                    "pekko.actor.provider", "local",
                    "parley.redis.uri", "redis://127.0.0.1:1",
                    "parley.redis.command-timeout", "500ms")));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  /** Heartbeats an hour apart (tests refresh by hand), four requests and conversations open. */
  static Session.Settings settings(Duration slowClientGrace) {
    return new Session.Settings(
        Duration.ofHours(1),
        Duration.ofSeconds(5),
        4,
        slowClientGrace,
        new RateLimits.Settings(100, 100, 10, 10, 100),
        4);
  }

  /** The real registry, on a Redis that is not there. */
  private void connect(Duration slowClientGrace) {
    connect(
        slowClientGrace,
        DeviceRegistration.of(
            new ConnectionRegistry(
                RedisConnector.get(testKit.system()), Duration.ofSeconds(90), Clock.systemUTC())));
  }

  private void connect(Duration slowClientGrace, DeviceRegistration registry) {
    router = testKit.createTestProbe();
    presence = testKit.createTestProbe();
    Session.Dependencies node =
        new Session.Dependencies(
            "node-1",
            registry,
            router.getRef(),
            null, // history: no sync in these tests
            presence.getRef());
    Pair<Pair<BoundedSourceQueue<ServerFrame>, UniqueKillSwitch>, TestSubscriber.Probe<ServerFrame>>
        socket =
            Source.<ServerFrame>queue(CAPACITY + 1)
                .viaMat(KillSwitches.single(), Keep.both())
                .toMat(TestSink.create(testKit.system()), Keep.both())
                .run(testKit.system());
    client = socket.second();
    buffer = socket.first().first();
    session = testKit.spawn(Session.create("alice", "phone", settings(slowClientGrace), node));
    session.tell(
        new Session.OutboundReady(
            new Outbound(socket.first().first(), socket.first().second(), CAPACITY)));
  }

  private ActorRef<NodeRouter.Delivery> attachedInbox() {
    NodeRouter.Attach attach =
        router.expectMessageClass(NodeRouter.Attach.class, Duration.ofSeconds(10));
    assertEquals("alice", attach.userId());
    assertEquals("phone", attach.deviceId());
    return attach.inbox();
  }

  /** A session on a registry that works, connected and welcomed; the client reads on. */
  private ActorRef<NodeRouter.Delivery> welcomed(DeviceRegistration registry) {
    connect(PATIENT, registry);
    ActorRef<NodeRouter.Delivery> inbox = attachedInbox();
    client.request(10);
    assertInstanceOf(ServerFrame.Welcome.class, client.expectNext());
    return inbox;
  }

  private static MessageRecord record(long seq) {
    return new MessageRecord(
        "c1", seq, "bob", "laptop", "key-" + seq, "body " + seq, Instant.EPOCH);
  }

  @Test
  void welcomesThenPushesMessagesInOrder() {
    connect(PATIENT);
    ActorRef<NodeRouter.Delivery> inbox = attachedInbox();
    client.request(4);
    ServerFrame.Welcome welcome = assertInstanceOf(ServerFrame.Welcome.class, client.expectNext());
    assertEquals("node-1", welcome.node());
    for (long seq = 1; seq <= 3; seq++) {
      inbox.tell(new NodeRouter.Push(record(seq)));
    }
    for (long seq = 1; seq <= 3; seq++) {
      ServerFrame.ChatMessage message =
          assertInstanceOf(ServerFrame.ChatMessage.class, client.expectNext());
      assertEquals(seq, message.seq());
      assertEquals("bob", message.senderId());
      assertEquals("key-" + seq, message.idempotencyKey());
    }
  }

  @Test
  void aSlowClientGetsItsBufferThenReconnectThenTheSessionEnds() {
    connect(PATIENT);
    ActorRef<NodeRouter.Delivery> inbox = attachedInbox();
    client.request(1);
    assertInstanceOf(ServerFrame.Welcome.class, client.expectNext());
    for (long seq = 1; seq <= CAPACITY + 5; seq++) {
      inbox.tell(new NodeRouter.Push(record(seq))); // the client reads nothing meanwhile
    }
    // The session gave up on the slow client once it closed the buffer; only then read.
    await().atMost(Duration.ofSeconds(10)).until(buffer::isCompleted);
    client.request(CAPACITY + 10);
    // The buffer, plus what the stream's own stages hold, arrives in order; the rest was refused.
    long seq = 0;
    ServerFrame frame = client.expectNext();
    while (frame instanceof ServerFrame.ChatMessage message) {
      assertEquals(++seq, message.seq());
      frame = client.expectNext();
    }
    assertEquals(new ServerFrame.Reconnect("slow_consumer"), frame);
    assertTrue(seq >= CAPACITY && seq < CAPACITY + 5, "delivered " + seq);
    client.expectComplete();
    session.tell(Session.ClientGone.INSTANCE); // what the socket stage sends once it closed
    testKit.createTestProbe().expectTerminated(session, Duration.ofSeconds(10));
  }

  @Test
  void aClientThatNeverReadsIsDroppedAfterTheGrace() {
    connect(IMPATIENT);
    ActorRef<NodeRouter.Delivery> inbox = attachedInbox();
    client.ensureSubscription();
    for (long seq = 1; seq <= CAPACITY + 5; seq++) {
      inbox.tell(new NodeRouter.Push(record(seq)));
    }
    client.expectError();
    testKit.createTestProbe().expectTerminated(session, IMPATIENT.plusSeconds(10));
  }

  @Test
  void aFailedRegistryRefreshIsLoggedAndTheSessionServesOn() {
    FakeDeviceRegistration registry = new FakeDeviceRegistration();
    ActorRef<NodeRouter.Delivery> inbox = welcomed(registry);
    registry.hold();
    // A refresh, as on a heartbeat or when Redis came back, failing on the registry's thread: the
    // session must log it on its own (Pekko refuses the actor's log from any other thread).
    LoggingTestKit.warn("registry refresh failed for a device of alice")
        .expect(
            testKit.system(),
            () -> {
              inbox.tell(new NodeRouter.Refresh());
              registry
                  .nextRegistration()
                  .completeExceptionally(new IllegalStateException("registry unreachable"));
              return null;
            });
    inbox.tell(new NodeRouter.Push(record(1)));
    assertEquals(1, assertInstanceOf(ServerFrame.ChatMessage.class, client.expectNext()).seq());
  }

  @Test
  void aPingIsAnsweredAndTheSocketReadAgain() {
    welcomed(new FakeDeviceRegistration());
    TestProbe<Session.StreamAck> socket = testKit.createTestProbe();
    session.tell(
        new Session.Inbound(
            new Session.Received.Text(new DecodeResult.Decoded(new ClientFrame.Ping())),
            socket.getRef()));
    assertEquals(new ServerFrame.Pong(), client.expectNext());
    socket.expectMessage(Session.StreamAck.INSTANCE);
  }

  @Test
  void aBinaryFrameIsRefusedAndAnOversizedOneCloses() {
    welcomed(new FakeDeviceRegistration());
    TestProbe<Session.StreamAck> socket = testKit.createTestProbe();
    session.tell(new Session.Inbound(new Session.Received.Binary(), socket.getRef()));
    assertEquals(ErrorCode.BAD_REQUEST, ((ServerFrame.Error) client.expectNext()).code());
    socket.expectMessage(Session.StreamAck.INSTANCE);
    session.tell(new Session.Inbound(new Session.Received.Oversized(10), socket.getRef()));
    assertEquals(ErrorCode.TOO_LARGE, ((ServerFrame.Error) client.expectNext()).code());
    client.expectComplete();
    socket.expectNoMessage(Duration.ofMillis(200)); // never read again: the socket closes
  }

  @Test
  void toldToLeaveItSaysReconnectClosesAndDetaches() {
    ActorRef<NodeRouter.Delivery> inbox = welcomed(new FakeDeviceRegistration());
    inbox.tell(new NodeRouter.Leave("draining"));
    assertEquals(new ServerFrame.Reconnect("draining"), client.expectNext());
    client.expectComplete();
    session.tell(Session.ClientGone.INSTANCE);
    NodeRouter.Detach detach = router.expectMessageClass(NodeRouter.Detach.class);
    assertEquals(inbox, detach.inbox());
    testKit.createTestProbe().expectTerminated(session, Duration.ofSeconds(10));
  }

  @Test
  void settingsAreTheGatewaysAndThePresenceLimitFromConfiguration() {
    Session.Settings read =
        Session.Settings.fromConfig(
            NodeConfig.load(
                Map.of(
                    "parley.gateway.heartbeat-interval", "7s",
                    "parley.gateway.rate-limit.send-burst", 9,
                    "parley.presence.max-open-per-connection", 3)));
    assertEquals(Duration.ofSeconds(7), read.heartbeatInterval());
    assertEquals(Duration.ofSeconds(10), read.askTimeout());
    assertEquals(64, read.maxInFlight());
    assertEquals(Duration.ofSeconds(10), read.slowClientGrace());
    assertEquals(new RateLimits.Settings(20, 9, 2, 5, 200), read.rateLimits());
    assertEquals(3, read.maxOpen());
  }
}
