package io.parley.registry;

import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** {@link DedupStore} in Redis: one Lua script per call, so each is atomic; keys expire. */
public final class RedisDedupStore implements DedupStore {

  /**
   * Returns the stored value, or claims the free key and returns nil. With ARGV[3] = '1' an earlier
   * claim is taken over too (it was settled as never written); an original ack never is.
   */
  private static final String CLAIM =
      """
      local value = redis.call('GET', KEYS[1])
      if value and (ARGV[3] == '0' or string.find(value, '"seq"', 1, true)) then return value end
      redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
      return false
      """;

  /** The first original ack stays forever; a claim (or nothing) gives way to it. */
  private static final String REMEMBER =
      """
      local value = redis.call('GET', KEYS[1])
      if value and string.find(value, '"seq"', 1, true) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
      return 1
      """;

  /** Deletes this very claim: not another attempt's, never an original ack. */
  private static final String RELEASE =
      """
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0
      """;

  private final RedisConnector redis;
  private final String seconds;

  /** Keys live {@code retention} after their last write. */
  public RedisDedupStore(RedisConnector redis, Duration retention) {
    this.redis = redis;
    this.seconds = Long.toString(retention.toSeconds());
  }

  @Override
  public CompletionStage<Optional<String>> claim(String key, String claim, boolean takeOverClaim) {
    return redis
        .eval(
            CLAIM,
            ScriptOutputType.VALUE,
            new String[] {key},
            claim,
            seconds,
            takeOverClaim ? "1" : "0")
        .thenApply(value -> Optional.ofNullable((String) value));
  }

  @Override
  public CompletionStage<Boolean> remember(String key, String original) {
    return redis
        .eval(REMEMBER, ScriptOutputType.INTEGER, new String[] {key}, original, seconds)
        .thenApply(written -> ((Long) written) == 1L);
  }

  @Override
  public CompletionStage<Boolean> release(String key, String claim) {
    return redis
        .eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, claim)
        .thenApply(deleted -> ((Long) deleted) == 1L);
  }
}
