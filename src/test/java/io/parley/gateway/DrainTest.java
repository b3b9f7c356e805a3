package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.ops.NodeConfig;
import io.parley.ops.NodeState;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A gateway's drain (docs/reliability.md, violation 6): sessions leave one after the other, evenly
 * spaced over the spread, on manual time through the node router's public protocol (where the
 * spacing lives); and {@link Drain}'s own part, the order of its shutdown tasks.
 */
@ExtendWith(LogCapturingExtension.class)
class DrainTest {

  private static final Duration SPREAD = Duration.ofSeconds(4);
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final Duration MOMENT = Duration.ofMillis(1);

  private static ActorTestKit testKit;
  private static ManualTime manualTime;

  @BeforeAll
  static void startTestKit() {
    testKit =
        ActorTestKit.create(
            "DrainTest",
            ManualTime.config()
                .withFallback(NodeConfig.load(Map.of("pekko.actor.provider", "local"))));
    manualTime = ManualTime.get(testKit.system());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  /** A session's inbox that reports its number when it is told to leave. */
  private static ActorRef<NodeRouter.Delivery> session(int number, TestProbe<Integer> left) {
    return testKit.spawn(
        Behaviors.receiveMessage(
            delivery -> {
              if (delivery.equals(new NodeRouter.Leave("draining"))) {
                left.getRef().tell(number);
              }
              return Behaviors.same();
            }));
  }

  @Test
  void sessionsLeaveEvenlySpacedOverTheSpreadThenTheDrainEndsAtItsDeadline() {
    int sessions = 4;
    Duration gap = SPREAD.dividedBy(sessions);
    ActorRef<NodeRouter.Message> router = testKit.spawn(NodeRouter.create());
    TestProbe<Integer> left = testKit.createTestProbe();
    for (int i = 0; i < sessions; i++) {
      router.tell(new NodeRouter.Attach("user-" + i, "phone", session(i, left)));
    }
    TestProbe<Done> drained = testKit.createTestProbe();
    router.tell(new NodeRouter.DrainAll(SPREAD, GRACE, drained.getRef()));
    // One attached while draining is told at once: once it was, the drain's turns are set.
    TestProbe<NodeRouter.Delivery> late = testKit.createTestProbe();
    router.tell(new NodeRouter.Attach("late", "phone", late.getRef()));
    late.expectMessage(new NodeRouter.Leave("draining"));

    Set<Integer> gone = new HashSet<>();
    manualTime.timePasses(Duration.ZERO);
    gone.add(left.receiveMessage()); // the first at once
    for (int turn = 1; turn < sessions; turn++) {
      manualTime.expectNoMessageFor(gap.minus(MOMENT), left);
      left.expectNoMessage(Duration.ofMillis(100)); // not one turn early, however late it lands
      manualTime.timePasses(MOMENT);
      gone.add(left.receiveMessage());
    }
    assertEquals(Set.of(0, 1, 2, 3), gone, "each session once");

    // None detached: the drain answers at spread + grace after it began, not before.
    Duration elapsed = gap.multipliedBy(sessions - 1);
    manualTime.expectNoMessageFor(SPREAD.plus(GRACE).minus(elapsed).minus(MOMENT), drained, left);
    manualTime.timePasses(MOMENT);
    drained.expectMessage(Done.getInstance());
  }

  @Test
  void theDrainEndsAsSoonAsTheLastSessionIsGone() {
    ActorRef<NodeRouter.Message> router = testKit.spawn(NodeRouter.create());
    TestProbe<Integer> left = testKit.createTestProbe();
    ActorRef<NodeRouter.Delivery> only = session(0, left);
    router.tell(new NodeRouter.Attach("user-0", "phone", only));
    TestProbe<Done> drained = testKit.createTestProbe();
    router.tell(new NodeRouter.DrainAll(SPREAD, GRACE, drained.getRef()));
    manualTime.timePasses(Duration.ZERO);
    assertEquals(0, left.receiveMessage());
    router.tell(new NodeRouter.Detach("user-0", "phone", only));
    drained.expectMessage(Done.getInstance());
  }

  @Test
  void drainTurnsTheNodeNotReadyThenAsksTheRouterWithTheConfiguredSpreadAndGrace()
      throws Exception {
    // A system of its own: Coordinated Shutdown ends it.
    ActorTestKit node =
        ActorTestKit.create(
            "DrainTestNode",
            NodeConfig.load(
                Map.of(
                    "pekko.actor.provider", "local",
                    "parley.drain.readiness-delay", "100ms",
                    "parley.drain.spread", "3s",
                    "parley.drain.grace", "7s")));
    try {
      TestProbe<NodeRouter.DrainAll> router = node.createTestProbe();
      Drain.register(node.system(), router.getRef());
      CompletionStage<Done> shutdown =
          CoordinatedShutdown.get(node.system()).runAll(CoordinatedShutdown.unknownReason());
      NodeRouter.DrainAll drain = router.expectMessageClass(NodeRouter.DrainAll.class);
      assertTrue(NodeState.get(node.system()).draining(), "not ready before sessions leave");
      assertEquals(Duration.ofSeconds(3), drain.spread());
      assertEquals(Duration.ofSeconds(7), drain.grace());
      drain.replyTo().tell(Done.getInstance());
      shutdown.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      node.shutdownTestKit();
    }
  }
}
