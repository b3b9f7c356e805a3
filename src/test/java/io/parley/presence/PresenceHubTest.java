package io.parley.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.presence.PresenceStore.Status;
import io.parley.routing.NodeRouter;
import io.parley.routing.NodeRouter.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.TreeSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The presence hub alone: Redis is a fake that keeps presence with a TTL, time is manual. */
@ExtendWith(LogCapturingExtension.class)
class PresenceHubTest {

  private static final String SELF = "self";
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final Duration DEBOUNCE = Duration.ofSeconds(5);
  private static final Duration POLL = Duration.ofSeconds(10);
  private static final Instant START = Instant.parse("2026-12-02T10:00:00Z");

  private static ActorTestKit testKit;
  private static ManualTime time;

  /** Presence as Redis keeps it: online while the key's TTL has not run out. */
  private static final class FakeRecords implements PresenceRecords {
    volatile Instant now = START;
    final Map<String, Instant> presentUntil = new ConcurrentHashMap<>();
    final Map<String, Instant> lastSeen = new ConcurrentHashMap<>();
    final BlockingQueue<String> calls = new LinkedBlockingQueue<>();

    /** When set, status reads wait for it. */
    volatile CompletableFuture<Void> readsHeld = CompletableFuture.completedFuture(null);

    void present(String userId) {
      presentUntil.put(userId, now.plus(TTL));
      lastSeen.put(userId, now);
    }

    @Override
    public CompletionStage<Boolean> markOnline(String userId) {
      calls.add("online " + userId);
      boolean was = statusOf(userId).online();
      present(userId);
      return CompletableFuture.completedFuture(!was);
    }

    @Override
    public CompletionStage<Boolean> markOfflineIfGone(String userId, Instant at) {
      calls.add("offline-if-gone " + userId + " " + at);
      return CompletableFuture.completedFuture(presentUntil.remove(userId) != null);
    }

    @Override
    public CompletionStage<Map<String, Status>> statuses(Collection<String> userIds) {
      return readsHeld.thenApply(
          ignored -> {
            Map<String, Status> statuses = new LinkedHashMap<>();
            userIds.forEach(user -> statuses.put(user, statusOf(user)));
            return statuses;
          });
    }

    private Status statusOf(String userId) {
      Instant until = presentUntil.get(userId);
      return until != null && until.isAfter(now)
          ? new Status(true, null)
          : new Status(false, lastSeen.get(userId));
    }

    @Override
    public CompletionStage<Void> watch(
        String node, Collection<String> userIds, Collection<String> conversationIds) {
      calls.add("watch " + node + " " + new TreeSet<>(userIds) + " " + conversationIds);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> unwatch(
        String node, Collection<String> userIds, Collection<String> conversationIds) {
      calls.add("unwatch " + node + " " + new TreeSet<>(userIds) + " " + conversationIds);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<List<String>> watchersOf(String userId) {
      // No hub to tell: announcing between hubs is left to PresenceIntegrationTest.
      return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<List<String>> viewersOf(String conversationId) {
      return CompletableFuture.completedFuture(List.of());
    }

    String nextCall() throws InterruptedException {
      String call = calls.poll(5, TimeUnit.SECONDS);
      assertTrue(call != null, "the hub made no call to the store");
      return call;
    }
  }

  private FakeRecords records;
  private ActorRef<PresenceHub.Message> hub;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("PresenceHubTest", ManualTime.config());
    time = ManualTime.get(testKit.system());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void spawnHub() {
    records = new FakeRecords();
    hub =
        testKit.spawn(
            PresenceHub.create(
                records, SELF, new PresenceHub.Settings(DEBOUNCE, POLL, Duration.ofHours(1))));
  }

  /** What the node's sessions are handed. */
  private ActorRef<PresenceHub.Local> sessions() {
    return hub.narrow();
  }

  /** What the other nodes' hubs are handed. */
  private ActorRef<PresenceHub.Command> hubs() {
    return hub.narrow();
  }

  private TestProbe<Delivery> view(String userId, String conversationId, String... members)
      throws InterruptedException {
    TestProbe<Delivery> viewer = testKit.createTestProbe();
    sessions()
        .tell(new PresenceHub.View(viewer.getRef(), userId, conversationId, List.of(members)));
    assertTrue(records.nextCall().startsWith("watch " + SELF), "the view was not watched");
    return viewer;
  }

  private static NodeRouter.PresencePush online(String userId) {
    return new NodeRouter.PresencePush(userId, true, null);
  }

  @Test
  void aNewViewerHearsTheStatusOfEachOtherMember() throws InterruptedException {
    records.present("bob");
    TestProbe<Delivery> viewer = testKit.createTestProbe();
    List<String> members = List.of("alice", "bob", "carol");
    sessions().tell(new PresenceHub.View(viewer.getRef(), "alice", "c1", members));

    assertEquals("watch self [bob, carol] [c1]", records.nextCall());
    Set<Delivery> heard = Set.of(viewer.receiveMessage(), viewer.receiveMessage());
    assertEquals(Set.of(online("bob"), new NodeRouter.PresencePush("carol", false, null)), heard);
    viewer.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aUserWhosePresenceExpiredIsPushedOfflineAtTheNextPoll() throws InterruptedException {
    records.present("bob");
    TestProbe<Delivery> viewer = view("alice", "c1", "alice", "bob");
    viewer.expectMessage(online("bob"));

    records.now = START.plus(TTL).plusSeconds(1); // bob's node crashed: no heartbeat renewed it
    time.expectNoMessageFor(POLL.minusMillis(1), viewer);
    time.timePasses(Duration.ofMillis(1));

    viewer.expectMessage(new NodeRouter.PresencePush("bob", false, START));
    time.timePasses(POLL); // the same status again is not pushed again
    viewer.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aStatusReadBeforeANewerAnnouncementIsNotPushed() throws InterruptedException {
    records.present("bob");
    records.readsHeld = new CompletableFuture<>();
    CompletableFuture<Void> held = records.readsHeld;
    TestProbe<Delivery> viewer = view("alice", "c1", "alice", "bob");

    Instant wentAt = START.plusSeconds(2);
    hubs().tell(new PresenceHub.StatusChanged("bob", false, wentAt));
    NodeRouter.PresencePush offline = new NodeRouter.PresencePush("bob", false, wentAt);
    viewer.expectMessage(offline);
    held.complete(null); // the read, started before the announcement, says bob is online

    viewer.expectMessage(offline); // the newer status, not the one read
    viewer.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aDeviceGoneTakesItsUserOfflineOnlyAfterTheDebounce() throws InterruptedException {
    Instant at = START.plusSeconds(1);
    sessions().tell(new PresenceHub.DeviceGone("bob", at));
    view("carol", "c9", "carol", "dan"); // handled after DeviceGone, so its timer is running

    time.timePasses(DEBOUNCE.minusMillis(1));
    assertEquals(null, records.calls.poll(200, TimeUnit.MILLISECONDS));
    time.timePasses(Duration.ofMillis(1));
    assertEquals("offline-if-gone bob " + at, records.nextCall());
  }

  @Test
  void typingReachesTheConversationsOtherViewersOnly() throws InterruptedException {
    TestProbe<Delivery> alice = view("alice", "c1", "alice", "bob");
    TestProbe<Delivery> bob = view("bob", "c1", "alice", "bob");
    alice.receiveMessage(); // bob's status
    bob.receiveMessage(); // alice's status

    hubs().tell(new PresenceHub.TypingSeen("c1", "bob"));

    alice.expectMessage(new NodeRouter.TypingPush("c1", "bob"));
    bob.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void closingAConversationUnwatchesWhatNoOtherViewerWatches() throws InterruptedException {
    TestProbe<Delivery> alice = view("alice", "c1", "alice", "bob", "carol");
    TestProbe<Delivery> dan = view("dan", "c2", "dan", "carol");

    sessions().tell(new PresenceHub.Unview(alice.getRef(), "c1"));
    assertEquals("unwatch self [bob] [c1]", records.nextCall()); // carol is still dan's

    sessions().tell(new PresenceHub.ViewerGone(dan.getRef()));
    assertEquals("unwatch self [carol] [c2]", records.nextCall());
  }
}
