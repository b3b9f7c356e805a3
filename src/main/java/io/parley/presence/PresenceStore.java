package io.parley.presence;

import com.typesafe.config.Config;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.parley.registry.ConnectionRegistry;
import io.parley.registry.RedisConnector;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Presence in Redis, and who wants to hear about it.
 *
 * <ul>
 *   <li>{@code presence:{user}}: exists while the user is online; every heartbeat of any of the
 *       user's devices sets it again for {@code ttl}, so a crashed node's users go offline when it
 *       expires.
 *   <li>{@code lastseen:{user}}: when the user was last known online (epoch millis), kept for
 *       {@code lastSeenRetention}.
 *   <li>{@code pwatch:{user}}: the nodes that hold a viewer of this user's presence, a sorted set
 *       scored by when the entry expires; {@code cview:{conversation}} likewise for the nodes that
 *       hold a viewer of a conversation (typing goes to them).
 * </ul>
 *
 * A status change is told to the nodes in {@code pwatch} only: its cost grows with the viewers of a
 * user, not with their contacts.
 */
public final class PresenceStore implements PresenceRecords {

  /** {@code lastSeen} is null while online and for users never seen. */
  public record Status(boolean online, Instant lastSeen) {
    static Status present() {
      return new Status(true, null);
    }
  }

  // Returns 1 when the user was offline until now.
  private static final String MARK_ONLINE =
      """
      local was = redis.call('EXISTS', KEYS[1])
      redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
      redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
      return 1 - was
      """;

  // Goes offline only if no device of the user is registered any more (it may have reconnected
  // on another node meanwhile) and it was online: returns 1 when this call took it offline.
  // The registry's entries are read with the registry's own Lua (ConnectionRegistry.LUA_ENTRY).
  private static final String MARK_OFFLINE_IF_GONE =
      ConnectionRegistry.LUA_ENTRY
          + """
      local now = tonumber(ARGV[1])
      local entries = redis.call('HVALS', KEYS[1])
      for i = 1, #entries do
        local expires = entry_expires(entries[i])
        if expires and expires > now then return 0 end
      end
      if redis.call('DEL', KEYS[2]) == 0 then return 0 end
      redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
      return 1
      """;

  // For each user (keys in pairs presence, lastseen): 1 or 0, then lastseen or "".
  private static final String STATUSES =
      """
      local out = {}
      for k = 1, #KEYS, 2 do
        table.insert(out, redis.call('EXISTS', KEYS[k]))
        table.insert(out, redis.call('GET', KEYS[k + 1]) or '')
      end
      return out
      """;

  private static final String WATCH =
      """
      for k = 1, #KEYS do
        redis.call('ZADD', KEYS[k], ARGV[2], ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', ARGV[3])
        redis.call('PEXPIRE', KEYS[k], ARGV[4])
      end
      return #KEYS
      """;

  private static final String UNWATCH =
      """
      for k = 1, #KEYS do redis.call('ZREM', KEYS[k], ARGV[1]) end
      return #KEYS
      """;

  private final RedisConnector redis;
  private final Duration ttl;
  private final Duration lastSeenRetention;
  private final Duration watchTtl;
  private final Clock clock;

  public PresenceStore(
      RedisConnector redis,
      Duration ttl,
      Duration lastSeenRetention,
      Duration watchTtl,
      Clock clock) {
    this.redis = redis;
    this.ttl = ttl;
    this.lastSeenRetention = lastSeenRetention;
    this.watchTtl = watchTtl;
    this.clock = clock;
  }

  /** The node's presence keys: its Redis and {@code parley.presence}, on the wall clock. */
  public static PresenceStore fromConfig(ActorSystem<?> system) {
    Config presence = system.settings().config().getConfig("parley.presence");
    return new PresenceStore(
        RedisConnector.get(system),
        presence.getDuration("ttl"),
        presence.getDuration("last-seen-retention"),
        presence.getDuration("watch-ttl"),
        Clock.systemUTC());
  }

  static String presenceKey(String userId) {
    return "presence:{" + userId + "}";
  }

  static String lastSeenKey(String userId) {
    return "lastseen:{" + userId + "}";
  }

  static String watchersKey(String userId) {
    return "pwatch:{" + userId + "}";
  }

  static String viewersKey(String conversationId) {
    return "cview:{" + conversationId + "}";
  }

  /** A device of the user is connected (first time or heartbeat); true if it just came online. */
  @Override
  public CompletionStage<Boolean> markOnline(String userId) {
    return redis
        .eval(
            MARK_ONLINE,
            ScriptOutputType.INTEGER,
            new String[] {presenceKey(userId), lastSeenKey(userId)},
            Long.toString(ttl.toMillis()),
            Long.toString(clock.millis()),
            Long.toString(lastSeenRetention.toMillis()))
        .thenApply(cameOnline -> ((Long) cameOnline) == 1L);
  }

  /**
   * A device of the user disconnected at {@code lastSeen}: offline unless another device is still
   * registered. True if this call took the user offline.
   */
  @Override
  public CompletionStage<Boolean> markOfflineIfGone(String userId, Instant lastSeen) {
    return redis
        .eval(
            MARK_OFFLINE_IF_GONE,
            ScriptOutputType.INTEGER,
            new String[] {ConnectionRegistry.key(userId), presenceKey(userId), lastSeenKey(userId)},
            Long.toString(clock.millis()),
            Long.toString(lastSeen.toEpochMilli()),
            Long.toString(lastSeenRetention.toMillis()))
        .thenApply(wentOffline -> ((Long) wentOffline) == 1L);
  }

  /** The status of each user, in one round trip. */
  @Override
  public CompletionStage<Map<String, Status>> statuses(Collection<String> userIds) {
    List<String> users = List.copyOf(userIds);
    if (users.isEmpty()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    String[] keys =
        users.stream()
            .flatMap(user -> Stream.of(presenceKey(user), lastSeenKey(user)))
            .toArray(String[]::new);
    return redis
        .eval(STATUSES, ScriptOutputType.MULTI, keys)
        .thenApply(flat -> toStatuses(users, (List<?>) flat));
  }

  private static Map<String, Status> toStatuses(List<String> users, List<?> flat) {
    Map<String, Status> statuses = new LinkedHashMap<>();
    for (int i = 0; i < users.size(); i++) {
      boolean online = ((Long) flat.get(2 * i)) == 1L;
      String lastSeen = (String) flat.get(2 * i + 1);
      statuses.put(
          users.get(i),
          online
              ? Status.present()
              : new Status(
                  false,
                  lastSeen.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(lastSeen))));
    }
    return statuses;
  }

  /** {@code node} holds viewers of these users' presence and of these conversations. */
  @Override
  public CompletionStage<Void> watch(
      String node, Collection<String> userIds, Collection<String> conversationIds) {
    String[] keys = keys(userIds, conversationIds);
    if (keys.length == 0) {
      return CompletableFuture.completedFuture(null);
    }
    long now = clock.millis();
    return redis
        .eval(
            WATCH,
            ScriptOutputType.INTEGER,
            keys,
            node,
            Long.toString(now + watchTtl.toMillis()),
            Long.toString(now),
            Long.toString(watchTtl.toMillis()))
        .thenApply(ignored -> null);
  }

  /** {@code node} no longer holds viewers of these users or conversations. */
  @Override
  public CompletionStage<Void> unwatch(
      String node, Collection<String> userIds, Collection<String> conversationIds) {
    String[] keys = keys(userIds, conversationIds);
    if (keys.length == 0) {
      return CompletableFuture.completedFuture(null);
    }
    return redis.eval(UNWATCH, ScriptOutputType.INTEGER, keys, node).thenApply(ignored -> null);
  }

  /** The nodes holding a viewer of the user's presence. */
  @Override
  public CompletionStage<List<String>> watchersOf(String userId) {
    return liveMembers(watchersKey(userId));
  }

  /** The nodes holding a viewer of the conversation. */
  @Override
  public CompletionStage<List<String>> viewersOf(String conversationId) {
    return liveMembers(viewersKey(conversationId));
  }

  private CompletionStage<List<String>> liveMembers(String key) {
    Range<Double> live = Range.create((double) clock.millis(), Double.POSITIVE_INFINITY);
    return redis.call(commands -> commands.zrangebyscore(key, live)).thenApply(List::copyOf);
  }

  private static String[] keys(Collection<String> userIds, Collection<String> conversationIds) {
    List<String> keys = new ArrayList<>(userIds.size() + conversationIds.size());
    userIds.forEach(user -> keys.add(watchersKey(user)));
    conversationIds.forEach(conversation -> keys.add(viewersKey(conversation)));
    return keys.toArray(String[]::new);
  }
}
