package io.parley.registry;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where {@link Dedup} keeps its idempotency keys: Redis in production ({@link RedisDedupStore}), a
 * map in unit tests. Values are {@link Dedup}'s JSON; a value holding {@code "seq"} is an original
 * ack, any other is a claim.
 *
 * <p>Guarantee asked of an implementation: calls take effect in the order they are made (Redis: one
 * connection), and each call is atomic.
 */
public interface DedupStore {

  /**
   * The value stored under {@code key}, or empty after storing {@code claim} there: when the key is
   * free, or, with {@code takeOverClaim}, when it holds a claim (never an original ack).
   */
  CompletionStage<Optional<String>> claim(String key, String claim, boolean takeOverClaim);

  /** Stores {@code original} unless an original ack is stored already (the first one stays). */
  CompletionStage<Boolean> remember(String key, String original);

  /** Deletes the key if it holds exactly {@code claim}. */
  CompletionStage<Boolean> release(String key, String claim);
}
