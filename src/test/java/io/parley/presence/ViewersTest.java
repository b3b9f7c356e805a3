package io.parley.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.routing.NodeRouter.Delivery;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/** Plain JUnit tests (TestInbox refs, no actor system) of the hub's viewer bookkeeping. */
class ViewersTest {

  private final Viewers viewers = new Viewers();
  private final ActorRef<Delivery> alice = TestInbox.<Delivery>create().getRef();
  private final ActorRef<Delivery> bob = TestInbox.<Delivery>create().getRef();

  @Test
  void aSessionIsNewOnlyOnce() {
    assertTrue(viewers.add(alice, "alice"));
    assertFalse(viewers.add(alice, "alice"));
  }

  @Test
  void aViewWatchesTheOtherMembersButNotTheViewersOwnUser() {
    viewers.add(alice, "alice");
    Viewers.Opened opened = viewers.view(alice, "alice", "c1", List.of("alice", "bob", "carol"));

    assertEquals(Set.of("bob", "carol"), opened.others());
    assertEquals(Set.of("bob", "carol"), Set.copyOf(opened.newlyWatched()));
    assertTrue(opened.newConversation());
    assertFalse(viewers.watches("alice"));
    assertTrue(viewers.views(alice, "c1"));
    assertEquals(Set.of(alice), viewers.watchersOf("bob"));
  }

  @Test
  void onlyUsersNobodyWatchedYetAreNewlyWatched() {
    viewers.add(alice, "alice");
    viewers.add(bob, "bob");
    viewers.view(alice, "alice", "c1", List.of("alice", "carol"));
    Viewers.Opened opened = viewers.view(bob, "bob", "c1", List.of("bob", "carol", "dave"));

    assertEquals(List.of("dave"), opened.newlyWatched());
    assertFalse(opened.newConversation());
  }

  @Test
  void unviewUnwatchesOnlyWhatNoOtherViewerStillWatches() {
    viewers.add(alice, "alice");
    viewers.add(bob, "bob");
    viewers.view(alice, "alice", "c1", List.of("alice", "carol", "dave"));
    viewers.view(bob, "bob", "c1", List.of("bob", "carol"));

    Viewers.Closed closed = viewers.unview(alice, "c1");

    assertEquals(List.of("dave"), closed.unwatched());
    assertFalse(closed.lastViewer());
    assertTrue(viewers.watches("carol"));
    assertEquals(Set.of(bob), viewers.watchersOf("carol"));
    assertTrue(viewers.unview(bob, "c1").lastViewer());
    assertTrue(viewers.watchedUsers().isEmpty());
    assertTrue(viewers.viewedConversations().isEmpty());
  }

  @Test
  void aUserSharedByTwoConversationsOfOneSessionStaysWatchedUntilBothClose() {
    viewers.add(alice, "alice");
    viewers.view(alice, "alice", "c1", List.of("alice", "bob"));
    viewers.view(alice, "alice", "c2", List.of("alice", "bob"));

    assertEquals(List.of(), viewers.unview(alice, "c1").unwatched());
    assertTrue(viewers.watches("bob"));
    assertEquals(List.of("bob"), viewers.unview(alice, "c2").unwatched());
    assertFalse(viewers.watches("bob"));
  }

  @Test
  void unviewOfWhatIsNotViewedChangesNothing() {
    assertNull(viewers.unview(alice, "c1"));
    viewers.add(alice, "alice");
    viewers.view(alice, "alice", "c1", List.of("alice", "bob"));
    assertNull(viewers.unview(alice, "c2"));
    assertTrue(viewers.watches("bob"));
  }

  @Test
  void typingGoesToTheConversationsViewersButNotToTheTypistsOwnSessions() {
    viewers.add(alice, "alice");
    viewers.add(bob, "bob");
    viewers.view(alice, "alice", "c1", List.of("alice", "bob"));
    viewers.view(bob, "bob", "c1", List.of("alice", "bob"));

    assertEquals(List.of(bob), viewers.viewersOf("c1", "alice"));
    assertEquals(List.of(), viewers.viewersOf("c2", "alice"));
  }

  @Test
  void conversationsOfListsWhatAGoneSessionMustUnview() {
    viewers.add(alice, "alice");
    viewers.view(alice, "alice", "c1", List.of("alice", "bob"));
    viewers.view(alice, "alice", "c2", List.of("alice", "carol"));

    assertEquals(Set.of("c1", "c2"), Set.copyOf(viewers.conversationsOf(alice)));
    viewers.conversationsOf(alice).forEach(c -> viewers.unview(alice, c));
    viewers.remove(alice);
    assertEquals(List.of(), viewers.conversationsOf(alice));
    assertTrue(viewers.watchedUsers().isEmpty());
    assertTrue(viewers.add(alice, "alice"));
  }
}
