package io.parley.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parley.pipeline.MessageRecord;
import io.parley.registry.ConnectionRegistry.DeviceLocation;
import io.parley.registry.DeviceLocator;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The fan-out alone: the registry is a fake, the nodes' routers are probes. */
@ExtendWith(LogCapturingExtension.class)
class FanoutTest {

  private static ActorTestKit testKit;
  private static TestProbe<NodeRouter.Command> nodeA;
  private static TestProbe<NodeRouter.Command> nodeB;
  private static TestProbe<NodeRouter.Command> nodeC;
  private static ActorRef<Fanout.Command> fanout;

  /** What the fake registry answers for the next lookups; the users it was asked for. */
  private static volatile Function<Collection<String>, CompletionStage<List<DeviceLocation>>>
      answer;

  private static final List<Collection<String>> asked = new CopyOnWriteArrayList<>();

  private static final DeviceLocator REGISTRY =
      users -> {
        asked.add(List.copyOf(users));
        return answer.apply(users);
      };

  private static final NodeRouter.Delivery TYPING = new NodeRouter.TypingPush("c1", "carol");

  @BeforeAll
  static void startFanout() {
    testKit = ActorTestKit.create("FanoutTest");
    nodeA = testKit.createTestProbe();
    nodeB = testKit.createTestProbe();
    nodeC = testKit.createTestProbe();
    // All three are registered before the fan-out subscribes, so its first listing holds them all.
    TestProbe<Receptionist.Registered> registered = testKit.createTestProbe();
    for (TestProbe<NodeRouter.Command> node : List.of(nodeA, nodeB, nodeC)) {
      testKit
          .system()
          .receptionist()
          .tell(Receptionist.register(NodeRouter.KEY, node.getRef(), registered.getRef()));
      registered.receiveMessage();
    }
    // A test's routers are all local: each is named as the test calls it.
    Map<ActorRef<NodeRouter.Command>, String> names =
        Map.of(nodeA.getRef(), "nodeA", nodeB.getRef(), "nodeB", nodeC.getRef(), "nodeC");
    fanout = testKit.spawn(Fanout.create(REGISTRY, router -> names.getOrDefault(router, "other")));
    awaitRoutersKnown();
  }

  /** Until its listing arrives the fan-out drops deliveries: warm up until one gets through. */
  private static void awaitRoutersKnown() {
    answer = users -> located(new DeviceLocation("warm", "up", "nodeA"));
    nodeA.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          fanout.tell(new Fanout.Deliver(TYPING, null, List.of("warm")));
          return nodeA.expectMessageClass(NodeRouter.Envelope.class, Duration.ofSeconds(1));
        });
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void clearAsked() {
    asked.clear();
  }

  private static CompletionStage<List<DeviceLocation>> located(DeviceLocation... locations) {
    return CompletableFuture.completedFuture(List.of(locations));
  }

  private static NodeRouter.Recipient device(String user, String device) {
    return new NodeRouter.Recipient(user, device);
  }

  @Test
  void sendsOneEnvelopePerNodeHoldingRecipientsAndNoneElsewhere() {
    answer =
        users ->
            located(
                new DeviceLocation("alice", "phone", "nodeA"),
                new DeviceLocation("alice", "laptop", "nodeB"),
                new DeviceLocation("bob", "phone", "nodeA"));

    fanout.tell(new Fanout.Deliver(TYPING, device("carol", "phone"), List.of("alice", "bob")));

    nodeA.expectMessage(
        new NodeRouter.Envelope(TYPING, List.of(device("alice", "phone"), device("bob", "phone"))));
    nodeB.expectMessage(new NodeRouter.Envelope(TYPING, List.of(device("alice", "laptop"))));
    nodeC.expectNoMessage(Duration.ofMillis(300));
    assertEquals(List.of(List.of("alice", "bob")), asked);
  }

  @Test
  void aMessageSkipsTheSendingDeviceAndANodeHoldingOnlyIt() {
    answer =
        users ->
            located(
                new DeviceLocation("alice", "laptop", "nodeB"),
                new DeviceLocation("alice", "phone", "nodeA"),
                new DeviceLocation("bob", "phone", "nodeC"));
    MessageRecord record =
        new MessageRecord("c1", 7, "alice", "laptop", "k7", "hi", Instant.EPOCH);

    fanout.tell(Fanout.Deliver.message(record, List.of("alice", "bob")));

    NodeRouter.Push push = new NodeRouter.Push(record);
    nodeA.expectMessage(new NodeRouter.Envelope(push, List.of(device("alice", "phone"))));
    nodeC.expectMessage(new NodeRouter.Envelope(push, List.of(device("bob", "phone"))));
    nodeB.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aFailedLookupSendsNothingAndTheNextDeliveryStillGoesOut() {
    answer = users -> CompletableFuture.failedFuture(new IllegalStateException("redis down"));
    fanout.tell(new Fanout.Deliver(TYPING, null, List.of("alice")));
    nodeA.expectNoMessage(Duration.ofMillis(300));
    nodeB.expectNoMessage(Duration.ZERO);
    nodeC.expectNoMessage(Duration.ZERO);

    answer = users -> located(new DeviceLocation("alice", "phone", "nodeB"));
    fanout.tell(new Fanout.Deliver(TYPING, null, List.of("alice")));
    nodeB.expectMessage(new NodeRouter.Envelope(TYPING, List.of(device("alice", "phone"))));
  }

  @Test
  void aDeviceOnANodeNotInTheClusterCostsNothingElse() {
    answer =
        users ->
            located(
                new DeviceLocation("alice", "phone", "gone-node"),
                new DeviceLocation("bob", "phone", "nodeC"));
    fanout.tell(new Fanout.Deliver(TYPING, null, List.of("alice", "bob")));
    nodeC.expectMessage(new NodeRouter.Envelope(TYPING, List.of(device("bob", "phone"))));
    nodeA.expectNoMessage(Duration.ofMillis(300));
    nodeB.expectNoMessage(Duration.ZERO);
  }
}
