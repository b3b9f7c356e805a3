package io.parley.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.ScriptOutputType;
import io.parley.CborSerializable;
import io.parley.Json;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency keys in Redis: {@code dedup:{conversation}:{key}} lives 24 hours and holds either a
 * claim ({@code {"claimedAt":…}}: an attempt to publish is under way) or the original ack ({@code
 * {"seq":…,"sentAt":…}}), so a retry, on any node, is answered with the original ack and delivered
 * nothing again (ADR 0003, ADR 0008).
 *
 * <p>A lookup claims a free key in the same round trip. The claim is replaced by the original ack
 * once the broker acked the message, and deleted when the message surely never reached the broker.
 * A claim that stays (the node died in between, or the broker's answer was lost) leaves the send in
 * doubt; the conversation settles it from the Kafka log. The dedup actor and its one connection
 * keep order, so a lookup on this node runs after every earlier write from this node.
 */
public final class Dedup {

  private static final Logger log = LoggerFactory.getLogger(Dedup.class);

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

  public interface Command extends CborSerializable {}

  /**
   * Answers {@link LookupResult}. A free key is claimed at {@code claimAt} in the same step (and an
   * earlier claim too, with {@code takeOverClaim}); {@code failed} when Redis could not be asked.
   */
  public record Lookup(
      String conversationId,
      String idempotencyKey,
      Instant claimAt,
      boolean takeOverClaim,
      ActorRef<LookupResult> replyTo)
      implements Command {}

  /** The broker acked the message: its original ack replaces the claim. */
  public record Remember(String conversationId, String idempotencyKey, Original original)
      implements Command {}

  /**
   * The attempt that claimed the key at {@code claimedAt} surely never reached the broker: its
   * claim goes, and a retry may publish at once.
   */
  public record Release(String conversationId, String idempotencyKey, Instant claimedAt)
      implements Command {}

  /** What is needed to answer the original ack again. */
  public record Original(long seq, Instant sentAt) implements CborSerializable {}

  /** What a lookup found; with neither an original nor an earlier claim, the key is now ours. */
  public record LookupResult(
      String idempotencyKey,
      Optional<Original> original,
      Optional<Instant> claimedEarlier,
      boolean failed)
      implements CborSerializable {

    public static LookupResult free(String idempotencyKey) {
      return new LookupResult(idempotencyKey, Optional.empty(), Optional.empty(), false);
    }

    public static LookupResult failed(String idempotencyKey) {
      return new LookupResult(idempotencyKey, Optional.empty(), Optional.empty(), true);
    }
  }

  private record Claim(Instant claimedAt) {}

  private Dedup() {}

  public static Behavior<Command> create(RedisConnector redis, Duration retention) {
    String seconds = Long.toString(retention.toSeconds());
    return Behaviors.receive(Command.class)
        .onMessage(Lookup.class, lookup -> onLookup(redis, seconds, lookup))
        .onMessage(Remember.class, remember -> onRemember(redis, seconds, remember))
        .onMessage(Release.class, release -> onRelease(redis, release))
        .build();
  }

  static String key(String conversationId, String idempotencyKey) {
    return "dedup:" + conversationId + ":" + idempotencyKey;
  }

  private static Behavior<Command> onLookup(RedisConnector redis, String seconds, Lookup lookup) {
    String claim = Json.write(new Claim(lookup.claimAt()));
    eval(
            redis,
            CLAIM,
            ScriptOutputType.VALUE,
            key(lookup.conversationId(), lookup.idempotencyKey()),
            claim,
            seconds,
            lookup.takeOverClaim() ? "1" : "0")
        .whenComplete(
            (value, failure) ->
                lookup
                    .replyTo()
                    .tell(
                        failure != null
                            ? LookupResult.failed(lookup.idempotencyKey())
                            : parse(lookup.idempotencyKey(), (String) value)));
    return Behaviors.same();
  }

  private static Behavior<Command> onRemember(
      RedisConnector redis, String seconds, Remember remember) {
    String original = Json.write(remember.original());
    warnOnFailure(
        eval(
            redis,
            REMEMBER,
            ScriptOutputType.INTEGER,
            key(remember.conversationId(), remember.idempotencyKey()),
            original,
            seconds),
        "remember the idempotency key of",
        remember.conversationId());
    return Behaviors.same();
  }

  private static Behavior<Command> onRelease(RedisConnector redis, Release release) {
    warnOnFailure(
        eval(
            redis,
            RELEASE,
            ScriptOutputType.INTEGER,
            key(release.conversationId(), release.idempotencyKey()),
            Json.write(new Claim(release.claimedAt()))),
        "release the idempotency key of",
        release.conversationId());
    return Behaviors.same();
  }

  private static CompletionStage<Object> eval(
      RedisConnector redis, String script, ScriptOutputType type, String key, String... args) {
    return redis.eval(script, type, new String[] {key}, args);
  }

  private static void warnOnFailure(CompletionStage<?> write, String what, String conversation) {
    write.whenComplete(
        (ok, failure) -> {
          if (failure != null) {
            log.warn("could not {} {}: {}", what, conversation, failure.toString());
          }
        });
  }

  private static LookupResult parse(String idempotencyKey, String value) {
    if (value == null) {
      return LookupResult.free(idempotencyKey);
    }
    try {
      JsonNode stored = Json.mapper().readTree(value);
      if (stored.has("seq")) {
        Original original = Json.mapper().treeToValue(stored, Original.class);
        return new LookupResult(idempotencyKey, Optional.of(original), Optional.empty(), false);
      }
      Claim claim = Json.mapper().treeToValue(stored, Claim.class);
      return new LookupResult(
          idempotencyKey, Optional.empty(), Optional.of(claim.claimedAt()), false);
    } catch (IOException | IllegalArgumentException corrupt) {
      // Neither an ack nor a claim: answering "free" could double a message, so fail the send.
      log.warn("unreadable dedup entry {}: {}", value, corrupt.getMessage());
      return LookupResult.failed(idempotencyKey);
    }
  }
}
