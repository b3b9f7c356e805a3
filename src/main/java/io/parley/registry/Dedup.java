package io.parley.registry;

import io.lettuce.core.SetArgs;
import io.parley.CborSerializable;
import io.parley.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency keys in Redis: {@code dedup:{conversation}:{key}} holds the original ack's seq and
 * time for 24 hours ({@code SET NX EX}), so a retry, on any node, is answered with the original ack
 * and delivered nothing again.
 *
 * <p>The key is written after the broker acked the message, never before: a key can never point at
 * a message Kafka does not have. Retries that arrive while the message is in flight are caught by
 * the conversation entity, the only writer of its conversation.
 */
public final class Dedup {

  private static final Logger log = LoggerFactory.getLogger(Dedup.class);

  public interface Command extends CborSerializable {}

  /** Answers {@link LookupResult}; {@code failed} when Redis could not be asked. */
  public record Lookup(String conversationId, String idempotencyKey, ActorRef<LookupResult> replyTo)
      implements Command {}

  public record Remember(String conversationId, String idempotencyKey, Original original)
      implements Command {}

  /** What is needed to answer the original ack again. */
  public record Original(long seq, Instant sentAt) implements CborSerializable {}

  public record LookupResult(String idempotencyKey, Optional<Original> original, boolean failed)
      implements CborSerializable {}

  private Dedup() {}

  public static Behavior<Command> create(RedisConnector redis, Duration retention) {
    SetArgs nxEx = SetArgs.Builder.nx().ex(retention.toSeconds());
    return Behaviors.receive(Command.class)
        .onMessage(Lookup.class, lookup -> onLookup(redis, lookup))
        .onMessage(Remember.class, remember -> onRemember(redis, nxEx, remember))
        .build();
  }

  static String key(String conversationId, String idempotencyKey) {
    return "dedup:" + conversationId + ":" + idempotencyKey;
  }

  private static Behavior<Command> onLookup(RedisConnector redis, Lookup lookup) {
    try {
      redis
          .async()
          .get(key(lookup.conversationId(), lookup.idempotencyKey()))
          .whenComplete(
              (value, failure) ->
                  lookup
                      .replyTo()
                      .tell(
                          failure != null
                              ? new LookupResult(lookup.idempotencyKey(), Optional.empty(), true)
                              : new LookupResult(lookup.idempotencyKey(), parse(value), false)));
    } catch (RuntimeException unreachable) {
      lookup.replyTo().tell(new LookupResult(lookup.idempotencyKey(), Optional.empty(), true));
    }
    return Behaviors.same();
  }

  private static Behavior<Command> onRemember(
      RedisConnector redis, SetArgs nxEx, Remember remember) {
    String key = key(remember.conversationId(), remember.idempotencyKey());
    try {
      redis
          .async()
          .set(key, Json.write(remember.original()), nxEx)
          .exceptionally(
              failure -> {
                log.warn(
                    "could not remember idempotency key of {}: {}",
                    remember.conversationId(),
                    failure.toString());
                return null;
              });
    } catch (RuntimeException unreachable) {
      log.warn(
          "could not remember idempotency key of {}: {}",
          remember.conversationId(),
          unreachable.toString());
    }
    return Behaviors.same();
  }

  private static Optional<Original> parse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Json.mapper().readValue(value, Original.class));
    } catch (java.io.IOException corrupt) {
      log.warn("unreadable dedup entry ignored: {}", corrupt.getMessage());
      return Optional.empty();
    }
  }
}
