package io.parley.registry;

import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Which node holds which device: {@code conn:{user}} is a Redis hash of device → "node|expiresAt".
 *
 * <p>Each device entry expires on its own ({@code ttl} after its last heartbeat, even when other
 * devices of the user stay connected), and the whole key expires with the newest one, so a crashed
 * node's entries vanish without anyone cleaning up. {@link #locate} answers for any number of users
 * in one round trip (one Lua script), skipping expired entries.
 *
 * <p>Entries are a routing hint, not truth: a stale entry costs one envelope to a node that no
 * longer holds the device; a missing one costs a push that the client's {@code sync} makes up.
 */
public final class ConnectionRegistry implements DeviceLocator {

  /** A connected device of a user and the node holding its socket. */
  public record DeviceLocation(String userId, String deviceId, String node) {}

  /**
   * The format of a device entry's value, in Lua, for every script that reads a {@code conn:} hash,
   * this class's and others' (presence asks whether a user still has a live device): {@code
   * entry_value(node, expires)} writes one, {@code entry_node(value)} and {@code
   * entry_expires(value)} read it (nil for a value that is not an entry). A script that reads
   * entries starts with this, so the format is defined here alone.
   */
  public static final String LUA_ENTRY =
      """
      local function entry_value(node, expires) return node .. '|' .. expires end
      local function entry_node(value) return string.match(value, '^(.*)|%d+$') end
      local function entry_expires(value) return tonumber(string.match(value, '|(%d+)$')) end
      """;

  private static final String REGISTER =
      LUA_ENTRY
          + """
      local now = tonumber(ARGV[3])
      local entries = redis.call('HGETALL', KEYS[1])
      for i = 1, #entries, 2 do
        local expires = entry_expires(entries[i + 1])
        if expires == nil or expires <= now then redis.call('HDEL', KEYS[1], entries[i]) end
      end
      redis.call('HSET', KEYS[1], ARGV[1], entry_value(ARGV[2], now + tonumber(ARGV[4])))
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      return 1
      """;

  // Removes the device only if this node still holds it: it may have reconnected elsewhere.
  private static final String UNREGISTER =
      LUA_ENTRY
          + """
      local value = redis.call('HGET', KEYS[1], ARGV[1])
      if value and entry_node(value) == ARGV[2] then
        return redis.call('HDEL', KEYS[1], ARGV[1])
      end
      return 0
      """;

  private static final String LOCATE =
      LUA_ENTRY
          + """
      local now = tonumber(ARGV[1])
      local found = {}
      for k = 1, #KEYS do
        local entries = redis.call('HGETALL', KEYS[k])
        for i = 1, #entries, 2 do
          local node, expires = entry_node(entries[i + 1]), entry_expires(entries[i + 1])
          if node and expires and expires > now then
            table.insert(found, k)
            table.insert(found, entries[i])
            table.insert(found, node)
          end
        end
      end
      return found
      """;

  private final RedisConnector redis;
  private final Duration ttl;
  private final Clock clock;

  public ConnectionRegistry(RedisConnector redis, Duration ttl, Clock clock) {
    this.redis = redis;
    this.ttl = ttl;
    this.clock = clock;
  }

  /** The node's registry: its Redis and {@code parley.registry.ttl}, on the wall clock. */
  public static ConnectionRegistry fromConfig(ActorSystem<?> system) {
    return new ConnectionRegistry(
        RedisConnector.get(system),
        system.settings().config().getDuration("parley.registry.ttl"),
        Clock.systemUTC());
  }

  public static String key(String userId) {
    return "conn:" + userId;
  }

  /** Registers or refreshes (heartbeat) a device on a node for another {@code ttl}. */
  public CompletionStage<Void> register(String userId, String deviceId, String node) {
    return redis
        .eval(
            REGISTER,
            ScriptOutputType.INTEGER,
            new String[] {key(userId)},
            deviceId,
            node,
            Long.toString(clock.millis()),
            Long.toString(ttl.toMillis()))
        .thenApply(ignored -> null);
  }

  /** Removes a device on clean close, unless it has meanwhile registered on another node. */
  public CompletionStage<Boolean> unregister(String userId, String deviceId, String node) {
    return redis
        .eval(UNREGISTER, ScriptOutputType.INTEGER, new String[] {key(userId)}, deviceId, node)
        .thenApply(removed -> ((Long) removed) == 1L);
  }

  /** Every live device of the given users, in one round trip. */
  @Override
  public CompletionStage<List<DeviceLocation>> locate(Collection<String> userIds) {
    List<String> users = List.copyOf(userIds);
    if (users.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    String[] keys = users.stream().map(ConnectionRegistry::key).toArray(String[]::new);
    return redis
        .eval(LOCATE, ScriptOutputType.MULTI, keys, Long.toString(clock.millis()))
        .thenApply(found -> toLocations(users, (List<?>) found));
  }

  /** Devices by node, for callers that send one envelope per node. */
  public static Map<String, List<DeviceLocation>> byNode(List<DeviceLocation> locations) {
    Map<String, List<DeviceLocation>> byNode = new HashMap<>();
    for (DeviceLocation location : locations) {
      byNode.computeIfAbsent(location.node(), node -> new ArrayList<>()).add(location);
    }
    return byNode;
  }

  private static List<DeviceLocation> toLocations(List<String> users, List<?> flat) {
    List<DeviceLocation> locations = new ArrayList<>(flat.size() / 3);
    for (int i = 0; i + 2 < flat.size(); i += 3) {
      String user = users.get(((Long) flat.get(i)).intValue() - 1);
      locations.add(new DeviceLocation(user, (String) flat.get(i + 1), (String) flat.get(i + 2)));
    }
    return locations;
  }
}
