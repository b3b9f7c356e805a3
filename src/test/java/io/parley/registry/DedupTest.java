package io.parley.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Dedup's outcomes over an in-memory store (the Redis scripts are covered by integration tests).
 */
@ExtendWith(LogCapturingExtension.class)
class DedupTest {

  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** The scripts' rules on a map: an original ack ("seq") is never overwritten. */
  private static final class FakeStore implements DedupStore {
    final Map<String, String> values = new ConcurrentHashMap<>();
    volatile boolean down;

    @Override
    public CompletionStage<Optional<String>> claim(String key, String claim, boolean takeOver) {
      if (down) {
        return CompletableFuture.failedFuture(new IllegalStateException("Redis down"));
      }
      String value = values.get(key);
      if (value != null && (!takeOver || value.contains("\"seq\""))) {
        return CompletableFuture.completedFuture(Optional.of(value));
      }
      values.put(key, claim);
      return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletionStage<Boolean> remember(String key, String original) {
      String value = values.get(key);
      if (value != null && value.contains("\"seq\"")) {
        return CompletableFuture.completedFuture(false);
      }
      values.put(key, original);
      return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletionStage<Boolean> release(String key, String claim) {
      if (down) {
        return CompletableFuture.failedFuture(new IllegalStateException("Redis down"));
      }
      return CompletableFuture.completedFuture(values.remove(key, claim));
    }
  }

  private FakeStore store;
  private ActorRef<Dedup.Command> dedup;
  private TestProbe<Dedup.LookupResult> replies;

  @BeforeEach
  void setUp() {
    store = new FakeStore();
    dedup = testKit.spawn(Dedup.create(store));
    replies = testKit.createTestProbe();
  }

  private Dedup.LookupResult lookup(String key, Instant at, boolean takeOver) {
    dedup.tell(new Dedup.Lookup("c1", key, at, takeOver, replies.getRef()));
    return replies.receiveMessage();
  }

  @Test
  void aFreeKeyIsClaimedAndAnEarlierClaimIsThenInDoubt() {
    assertEquals(new Dedup.Claimed("k"), lookup("k", T0, false));
    assertEquals(
        new Dedup.ClaimedEarlier("k", T0),
        lookup("k", T0.plusSeconds(60), false),
        "a retry sees the first attempt's claim and its time");
  }

  @Test
  void aRememberedAckAnswersEveryLaterLookupAndIsNeverReplaced() {
    lookup("k", T0, false);
    Instant sentAt = T0.plusMillis(5);
    dedup.tell(new Dedup.Remember("c1", "k", new Dedup.Original(7, sentAt)));
    dedup.tell(new Dedup.Remember("c1", "k", new Dedup.Original(9, sentAt)));
    Dedup.Original first = new Dedup.Original(7, sentAt);
    assertEquals(new Dedup.AlreadyAcked("k", first), lookup("k", T0.plusSeconds(1), false));
    assertEquals(
        new Dedup.AlreadyAcked("k", first),
        lookup("k", T0.plusSeconds(2), true),
        "not even a take-over replaces an original ack");
  }

  @Test
  void aTakeOverReplacesAnEarlierClaim() {
    lookup("k", T0, false);
    assertEquals(new Dedup.Claimed("k"), lookup("k", T0.plusSeconds(50), true));
    assertEquals(new Dedup.ClaimedEarlier("k", T0.plusSeconds(50)), lookup("k", T0, false));
  }

  @Test
  void aReleaseDeletesOnlyItsOwnClaim() {
    lookup("k", T0, false);
    dedup.tell(new Dedup.Release("c1", "k", T0.plusSeconds(1))); // another attempt's: stays
    assertInstanceOf(Dedup.ClaimedEarlier.class, lookup("k", T0, false));
    dedup.tell(new Dedup.Release("c1", "k", T0));
    assertEquals(new Dedup.Claimed("k"), lookup("k", T0.plusSeconds(2), false));
  }

  @Test
  void keysAreKeptPerConversation() {
    lookup("k", T0, false);
    assertEquals(Dedup.key("c1", "k"), store.values.keySet().iterator().next());
    dedup.tell(new Dedup.Lookup("c2", "k", T0, false, replies.getRef()));
    assertEquals(new Dedup.Claimed("k"), replies.receiveMessage());
  }

  @Test
  void anUnreachableStoreOrAnUnreadableEntryFailsTheLookup() {
    store.values.put(Dedup.key("c1", "bad"), "not json");
    LoggingTestKit.warn("unreadable dedup entry")
        .expect(
            testKit.system(),
            () -> {
              assertEquals(new Dedup.Failed("bad"), lookup("bad", T0, false));
              return null;
            });
    store.down = true;
    assertEquals(new Dedup.Failed("k"), lookup("k", T0, false));
  }

  @Test
  void aFailedWriteIsLogged() {
    store.down = true;
    LoggingTestKit.warn("could not release the idempotency key of c1")
        .expect(
            testKit.system(),
            () -> {
              dedup.tell(new Dedup.Release("c1", "k", T0));
              return null;
            });
  }
}
