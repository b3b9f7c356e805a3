package io.parley.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.parley.routing.NodeRouter.Delivery;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node's router alone: sessions are probes, time is manual. */
@ExtendWith(LogCapturingExtension.class)
class NodeRouterTest {

  private static ActorTestKit testKit;
  private static ManualTime time;

  private static final NodeRouter.Recipient ALICE_PHONE =
      new NodeRouter.Recipient("alice", "phone");
  private static final NodeRouter.Recipient ALICE_LAPTOP =
      new NodeRouter.Recipient("alice", "laptop");
  private static final NodeRouter.Recipient BOB_PHONE = new NodeRouter.Recipient("bob", "phone");
  private static final Delivery PUSH = new NodeRouter.TypingPush("c1", "carol");

  private ActorRef<NodeRouter.Message> router;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("NodeRouterTest", ManualTime.config());
    time = ManualTime.get(testKit.system());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void spawnRouter() {
    router = testKit.spawn(NodeRouter.create());
  }

  private TestProbe<Delivery> attach(NodeRouter.Recipient device) {
    TestProbe<Delivery> session = testKit.createTestProbe();
    local().tell(new NodeRouter.Attach(device.userId(), device.deviceId(), session.getRef()));
    return session;
  }

  /** What a session is handed. */
  private ActorRef<NodeRouter.Local> local() {
    return router.narrow();
  }

  /** What another node's fan-out is handed. */
  private ActorRef<NodeRouter.Command> remote() {
    return router.narrow();
  }

  @Test
  void handsAnEnvelopeToTheSessionsItNamesOnly() {
    TestProbe<Delivery> phone = attach(ALICE_PHONE);
    TestProbe<Delivery> laptop = attach(ALICE_LAPTOP);
    TestProbe<Delivery> bob = attach(BOB_PHONE);

    remote()
        .tell(
            new NodeRouter.Envelope(
                PUSH, List.of(ALICE_PHONE, BOB_PHONE, new NodeRouter.Recipient("dan", "x"))));

    phone.expectMessage(PUSH);
    bob.expectMessage(PUSH);
    laptop.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aDetachedDeviceGetsNothingButOnlyItsOwnSessionDetachesIt() {
    TestProbe<Delivery> old = attach(ALICE_PHONE);
    TestProbe<Delivery> reconnected = attach(ALICE_PHONE); // the same device, a newer session
    // The old session closing late must not detach the newer one.
    local().tell(new NodeRouter.Detach("alice", "phone", old.getRef()));
    remote().tell(new NodeRouter.Envelope(PUSH, List.of(ALICE_PHONE)));
    reconnected.expectMessage(PUSH);

    local().tell(new NodeRouter.Detach("alice", "phone", reconnected.getRef()));
    remote().tell(new NodeRouter.Envelope(PUSH, List.of(ALICE_PHONE)));
    reconnected.expectNoMessage(Duration.ofMillis(200));
    old.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aSessionThatStopsWithoutDetachingIsForgotten() {
    TestProbe<Delivery> phone = attach(ALICE_PHONE);
    phone.stop();
    TestProbe<Done> drained = testKit.createTestProbe();
    drain(Duration.ofSeconds(10), Duration.ofSeconds(10), drained);
    // No time passes: only the router's watch of the session can have emptied it.
    drained.expectMessage(Done.getInstance());
  }

  private void drain(Duration spread, Duration grace, TestProbe<Done> drained) {
    ActorRef<NodeRouter.DrainAll> drain = router.narrow(); // what the drain is handed
    drain.tell(new NodeRouter.DrainAll(spread, grace, drained.getRef()));
  }

  @Test
  void refreshAllAsksEverySessionToRegisterAgain() {
    TestProbe<Delivery> phone = attach(ALICE_PHONE);
    TestProbe<Delivery> bob = attach(BOB_PHONE);
    ActorRef<NodeRouter.RefreshAll> hook = router.narrow();
    hook.tell(new NodeRouter.RefreshAll());
    phone.expectMessage(new NodeRouter.Refresh());
    bob.expectMessage(new NodeRouter.Refresh());
  }

  /** A session that forwards what it is handed, tagged with its name, to one probe. */
  private record Heard(String session, Delivery delivery) {}

  private ActorRef<Delivery> attachTagged(NodeRouter.Recipient device, TestProbe<Heard> all) {
    String name = device.userId() + "/" + device.deviceId();
    ActorRef<Delivery> session =
        testKit.spawn(
            Behaviors.receiveMessage(
                delivery -> {
                  all.getRef().tell(new Heard(name, delivery));
                  return Behaviors.same();
                }));
    local().tell(new NodeRouter.Attach(device.userId(), device.deviceId(), session));
    return session;
  }

  @Test
  void drainAsksEachSessionToLeaveEvenlySpacedThenAnswersWhenAllAreGone() {
    TestProbe<Heard> heard = testKit.createTestProbe();
    List<NodeRouter.Recipient> devices = List.of(ALICE_PHONE, ALICE_LAPTOP, BOB_PHONE);
    List<ActorRef<Delivery>> sessions =
        devices.stream().map(device -> attachTagged(device, heard)).toList();
    TestProbe<Done> drained = testKit.createTestProbe();

    drain(Duration.ofSeconds(3), Duration.ofSeconds(5), drained);

    // 3 sessions in 3 s: one at once, then one a second, each a different session.
    Set<String> left = new HashSet<>();
    left.add(leaveHeard(heard));
    for (int i = 0; i < 2; i++) {
      time.expectNoMessageFor(Duration.ofMillis(999), heard);
      time.timePasses(Duration.ofMillis(1));
      left.add(leaveHeard(heard));
    }
    assertEquals(3, left.size());
    drained.expectNoMessage(Duration.ZERO);
    for (int i = 0; i < devices.size(); i++) {
      NodeRouter.Recipient device = devices.get(i);
      local().tell(new NodeRouter.Detach(device.userId(), device.deviceId(), sessions.get(i)));
    }
    drained.expectMessage(Done.getInstance());
  }

  private static String leaveHeard(TestProbe<Heard> heard) {
    Heard one = heard.receiveMessage();
    assertEquals(new NodeRouter.Leave("draining"), one.delivery());
    return one.session();
  }

  @Test
  void aSessionAttachingDuringTheDrainLeavesAtOnce() {
    TestProbe<Done> drained = testKit.createTestProbe();
    attach(BOB_PHONE); // keeps the drain open
    drain(Duration.ofSeconds(10), Duration.ofSeconds(10), drained);
    TestProbe<Delivery> late = attach(ALICE_PHONE);
    late.expectMessage(new NodeRouter.Leave("draining"));
  }

  @Test
  void drainAnswersAtTheDeadlineWhenSessionsStay() {
    TestProbe<Delivery> phone = attach(ALICE_PHONE);
    TestProbe<Done> drained = testKit.createTestProbe();
    drain(Duration.ofSeconds(2), Duration.ofSeconds(1), drained);

    phone.expectMessage(new NodeRouter.Leave("draining"));
    time.expectNoMessageFor(Duration.ofMillis(2999), drained);
    time.timePasses(Duration.ofMillis(1));
    drained.expectMessage(Done.getInstance());
  }

  @Test
  void drainOfANodeWithoutSessionsAnswersAtOnce() {
    TestProbe<Done> drained = testKit.createTestProbe();
    drain(Duration.ofSeconds(2), Duration.ofSeconds(1), drained);
    drained.expectMessage(Done.getInstance());
  }

  @Test
  void otherNodesFindItUnderItsKey() {
    TestProbe<Receptionist.Listing> listings = testKit.createTestProbe();
    ActorRef<NodeRouter.Message> own = router;
    listings.awaitAssert(
        () -> {
          testKit
              .system()
              .receptionist()
              .tell(Receptionist.find(NodeRouter.KEY, listings.getRef()));
          boolean listed =
              listings.receiveMessage().getServiceInstances(NodeRouter.KEY).stream()
                  .anyMatch(ref -> ref.path().equals(own.path()));
          assertEquals(true, listed);
          return null;
        });
  }
}
