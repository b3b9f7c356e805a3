package io.parley.presence;

import io.parley.routing.NodeRouter.Delivery;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The {@link PresenceHub}'s record of this node's viewers: which session views which conversation,
 * and whose presence each session watches. It only keeps the books; the hub writes to Redis what
 * they say to watch or unwatch.
 *
 * <p>A user is watched while at least one session views at least one conversation the user is an
 * other member of (a session's own user is never watched through it); a conversation is viewed
 * while at least one session views it. A user that two open conversations of one session share
 * stays watched until the session leaves both.
 */
final class Viewers {

  /** What one session views: per conversation, its other members. */
  private record Viewer(String userId, Map<String, Set<String>> othersByConversation) {}

  /**
   * What a new view changed: {@code others} the members the session now watches through it, of
   * them {@code newlyWatched} those no session on this node watched before, and whether the
   * conversation had no viewer before.
   */
  record Opened(Set<String> others, List<String> newlyWatched, boolean newConversation) {}

  /**
   * What closing a view changed: the users no session on this node watches any more, and whether
   * the conversation lost its last viewer.
   */
  record Closed(List<String> unwatched, boolean lastViewer) {}

  private final Map<ActorRef<Delivery>, Viewer> viewers = new HashMap<>();
  private final Map<String, Set<ActorRef<Delivery>>> viewersByConversation = new HashMap<>();

  /** Per watched user: each viewing session and in how many of its open conversations. */
  private final Map<String, Map<ActorRef<Delivery>, Integer>> watchersByUser = new HashMap<>();

  /** True when the session is not yet known: the caller then watches it for termination. */
  boolean add(ActorRef<Delivery> session, String userId) {
    return viewers.putIfAbsent(session, new Viewer(userId, new HashMap<>())) == null;
  }

  /** True when the session (already {@link #add added}) views the conversation. */
  boolean views(ActorRef<Delivery> session, String conversationId) {
    Viewer viewer = viewers.get(session);
    return viewer != null && viewer.othersByConversation().containsKey(conversationId);
  }

  /**
   * The session ({@link #add added}, not yet viewing the conversation) of {@code userId} now views
   * it.
   */
  Opened view(
      ActorRef<Delivery> session, String userId, String conversationId, List<String> members) {
    Viewer viewer = viewers.get(session);
    Set<String> others = new HashSet<>(members);
    others.remove(userId);
    viewer.othersByConversation().put(conversationId, others);
    List<String> newlyWatched = others.stream().filter(user -> !watches(user)).toList();
    others.forEach(
        user ->
            watchersByUser
                .computeIfAbsent(user, u -> new HashMap<>())
                .merge(session, 1, Integer::sum));
    Set<ActorRef<Delivery>> conversationViewers =
        viewersByConversation.computeIfAbsent(conversationId, c -> new HashSet<>());
    boolean newConversation = conversationViewers.isEmpty();
    conversationViewers.add(session);
    return new Opened(others, newlyWatched, newConversation);
  }

  /** The session no longer views the conversation; null if it did not. */
  Closed unview(ActorRef<Delivery> session, String conversationId) {
    Viewer viewer = viewers.get(session);
    Set<String> others =
        viewer == null ? null : viewer.othersByConversation().remove(conversationId);
    if (others == null) {
      return null;
    }
    List<String> unwatched = others.stream().filter(user -> dropWatcher(user, session)).toList();
    Set<ActorRef<Delivery>> conversationViewers = viewersByConversation.get(conversationId);
    boolean lastViewer =
        conversationViewers != null
            && conversationViewers.remove(session)
            && conversationViewers.isEmpty();
    if (lastViewer) {
      viewersByConversation.remove(conversationId);
    }
    return new Closed(unwatched, lastViewer);
  }

  /** True when {@code session} was the user's last watcher on this node. */
  private boolean dropWatcher(String userId, ActorRef<Delivery> session) {
    Map<ActorRef<Delivery>, Integer> sessions = watchersByUser.get(userId);
    if (sessions == null) {
      return false;
    }
    sessions.computeIfPresent(session, (s, count) -> count > 1 ? count - 1 : null);
    if (!sessions.isEmpty()) {
      return false;
    }
    watchersByUser.remove(userId);
    return true;
  }

  /** The conversations the session views (a copy), empty if it is unknown. */
  List<String> conversationsOf(ActorRef<Delivery> session) {
    Viewer viewer = viewers.get(session);
    return viewer == null ? List.of() : List.copyOf(viewer.othersByConversation().keySet());
  }

  /** Forgets the session; call once it views nothing. */
  void remove(ActorRef<Delivery> session) {
    viewers.remove(session);
  }

  boolean watches(String userId) {
    return watchersByUser.containsKey(userId);
  }

  /** The sessions watching the user's presence. */
  Set<ActorRef<Delivery>> watchersOf(String userId) {
    return watchersByUser.getOrDefault(userId, Map.of()).keySet();
  }

  /** The sessions viewing the conversation, but for those of {@code userId}. */
  List<ActorRef<Delivery>> viewersOf(String conversationId, String exceptUserId) {
    return viewersByConversation.getOrDefault(conversationId, Set.of()).stream()
        .filter(
            session -> {
              Viewer viewer = viewers.get(session);
              return viewer != null && !viewer.userId().equals(exceptUserId);
            })
        .toList();
  }

  /** The watched users (a live, unmodifiable view). */
  Set<String> watchedUsers() {
    return Collections.unmodifiableSet(watchersByUser.keySet());
  }

  /** The viewed conversations (a live, unmodifiable view). */
  Set<String> viewedConversations() {
    return Collections.unmodifiableSet(viewersByConversation.keySet());
  }
}
