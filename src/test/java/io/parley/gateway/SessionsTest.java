package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.parley.ops.NodeConfig;
import io.parley.presence.PresenceHub;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node's parent of sessions: one child per connection, and a child's end is its own. */
@ExtendWith(LogCapturingExtension.class)
class SessionsTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void startTestKit() {
    testKit =
        ActorTestKit.create("SessionsTest", NodeConfig.load(Map.of("pekko.actor.provider", "local")));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  private final TestProbe<NodeRouter.Local> router = testKit.createTestProbe();
  private final TestProbe<PresenceHub.Local> presence = testKit.createTestProbe();

  private ActorRef<Sessions.Command> sessions(DeviceRegistration registry) {
    return testKit.spawn(
        Sessions.create(
            SessionTest.settings(Duration.ofMinutes(5)),
            new Session.Dependencies("node-1", registry, router.getRef(), null, presence.getRef())));
  }

  private static ActorRef<Session.Command> connect(
      ActorRef<Sessions.Command> sessions, String userId) {
    TestProbe<ActorRef<Session.Command>> replyTo = testKit.createTestProbe();
    sessions.tell(new Sessions.Connect(userId, "phone", replyTo.getRef()));
    return replyTo.receiveMessage();
  }

  /** Gives the session a socket that reads everything; it then registers and attaches. */
  private void serve(ActorRef<Session.Command> session, String userId) {
    giveSocket(session);
    assertEquals(userId, router.expectMessageClass(NodeRouter.Attach.class).userId());
  }

  @Test
  void eachConnectionGetsItsOwnChildSession() {
    ActorRef<Sessions.Command> sessions = sessions(new FakeDeviceRegistration());
    ActorRef<Session.Command> alice = connect(sessions, "alice");
    ActorRef<Session.Command> bob = connect(sessions, "bob");
    assertNotEquals(alice, bob);
    assertEquals(sessions.path(), alice.path().parent());
    assertEquals(sessions.path(), bob.path().parent());
  }

  @Test
  void aSessionThatEndsLeavesTheParentAndTheOthersServing() {
    ActorRef<Sessions.Command> sessions = sessions(new FakeDeviceRegistration());
    ActorRef<Session.Command> alice = connect(sessions, "alice");
    ActorRef<Session.Command> bob = connect(sessions, "bob");
    alice.tell(Session.ClientGone.INSTANCE);
    TestProbe<Object> watcher = testKit.createTestProbe();
    watcher.expectTerminated(alice);
    serve(bob, "bob");
    serve(connect(sessions, "carol"), "carol");
  }

  @Test
  void aSessionThatFailsIsStoppedAloneAndNotRestarted() {
    DeviceRegistration crashesForMallory =
        new DeviceRegistration() {
          @Override
          public CompletionStage<Void> register(String userId, String deviceId, String node) {
            if (userId.equals("mallory")) {
              throw new IllegalStateException("a bug in a session");
            }
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public CompletionStage<Boolean> unregister(String userId, String deviceId, String node) {
            return CompletableFuture.completedFuture(true);
          }
        };
    ActorRef<Sessions.Command> sessions = sessions(crashesForMallory);
    ActorRef<Session.Command> bob = connect(sessions, "bob");
    ActorRef<Session.Command> mallory = connect(sessions, "mallory");
    LoggingTestKit.error(IllegalStateException.class)
        .expect(
            testKit.system(),
            () -> {
              giveSocket(mallory);
              return null;
            });
    testKit.createTestProbe().expectTerminated(mallory);
    serve(bob, "bob");
    serve(connect(sessions, "carol"), "carol");
  }

  private static void giveSocket(ActorRef<Session.Command> session) {
    Source.<ServerFrame>queue(9)
        .viaMat(KillSwitches.single(), Keep.both())
        .to(Sink.ignore())
        .mapMaterializedValue(
            queueAndSwitch -> {
              session.tell(
                  new Session.OutboundReady(
                      new Outbound(queueAndSwitch.first(), queueAndSwitch.second(), 8)));
              return queueAndSwitch;
            })
        .run(testKit.system());
  }
}
