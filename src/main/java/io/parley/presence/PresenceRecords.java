package io.parley.presence;

import io.parley.presence.PresenceStore.Status;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Where presence is recorded and who watches it: the seam between the {@link PresenceHub} and Redis
 * ({@link PresenceStore} is the one production uses), so the hub can be tested without Redis.
 */
public interface PresenceRecords {

  /** A device of the user is connected (first time or heartbeat); true if it just came online. */
  CompletionStage<Boolean> markOnline(String userId);

  /**
   * A device of the user disconnected at {@code lastSeen}: offline unless another device is still
   * registered. True if this call took the user offline.
   */
  CompletionStage<Boolean> markOfflineIfGone(String userId, Instant lastSeen);

  /** The status of each user; a user whose presence expired is offline. */
  CompletionStage<Map<String, Status>> statuses(Collection<String> userIds);

  /** {@code node} holds viewers of these users' presence and of these conversations. */
  CompletionStage<Void> watch(
      String node, Collection<String> userIds, Collection<String> conversationIds);

  /** {@code node} no longer holds viewers of these users or conversations. */
  CompletionStage<Void> unwatch(
      String node, Collection<String> userIds, Collection<String> conversationIds);

  /** The nodes holding a viewer of the user's presence. */
  CompletionStage<List<String>> watchersOf(String userId);

  /** The nodes holding a viewer of the conversation. */
  CompletionStage<List<String>> viewersOf(String conversationId);
}
