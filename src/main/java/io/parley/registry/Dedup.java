package io.parley.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
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
 *
 * <p>Node-local: its protocol never crosses the cluster (the conversation and the publisher that
 * use it run on the same node), so it carries no serialization marker.
 */
public final class Dedup {

  private static final Logger log = LoggerFactory.getLogger(Dedup.class);

  public interface Command {}

  /**
   * Answers a {@link LookupResult}. A free key is claimed at {@code claimAt} in the same step (and
   * an earlier claim too, with {@code takeOverClaim}).
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
  public record Original(long seq, Instant sentAt) {}

  /** What a lookup found. */
  public sealed interface LookupResult permits Claimed, AlreadyAcked, ClaimedEarlier, Failed {
    String idempotencyKey();
  }

  /** The key was free (or its earlier claim taken over): it is now this attempt's claim. */
  public record Claimed(String idempotencyKey) implements LookupResult {}

  /** The message was acked before: answer {@code original} again, publish nothing. */
  public record AlreadyAcked(String idempotencyKey, Original original) implements LookupResult {}

  /** An earlier attempt claimed the key at {@code claimedAt} and left no answer: in doubt. */
  public record ClaimedEarlier(String idempotencyKey, Instant claimedAt) implements LookupResult {}

  /** Redis could not be asked, or held something unreadable: the send must not go ahead. */
  public record Failed(String idempotencyKey) implements LookupResult {}

  private record Claim(Instant claimedAt) {}

  private Dedup() {}

  /** Production: the node's Redis, keys living {@code parley.dedup.retention}. */
  public static Behavior<Command> create(ActorSystem<?> system) {
    Duration retention = system.settings().config().getDuration("parley.dedup.retention");
    return create(new RedisDedupStore(RedisConnector.get(system), retention));
  }

  public static Behavior<Command> create(DedupStore store) {
    return Behaviors.receive(Command.class)
        .onMessage(Lookup.class, lookup -> onLookup(store, lookup))
        .onMessage(Remember.class, remember -> onRemember(store, remember))
        .onMessage(Release.class, release -> onRelease(store, release))
        .build();
  }

  static String key(String conversationId, String idempotencyKey) {
    return "dedup:" + conversationId + ":" + idempotencyKey;
  }

  private static Behavior<Command> onLookup(DedupStore store, Lookup lookup) {
    String key = lookup.idempotencyKey();
    store
        .claim(
            key(lookup.conversationId(), key),
            Json.write(new Claim(lookup.claimAt())),
            lookup.takeOverClaim())
        .whenComplete(
            (value, failure) ->
                lookup.replyTo().tell(failure != null ? new Failed(key) : parse(key, value)));
    return Behaviors.same();
  }

  private static Behavior<Command> onRemember(DedupStore store, Remember remember) {
    warnOnFailure(
        store.remember(
            key(remember.conversationId(), remember.idempotencyKey()),
            Json.write(remember.original())),
        "remember the idempotency key of",
        remember.conversationId());
    return Behaviors.same();
  }

  private static Behavior<Command> onRelease(DedupStore store, Release release) {
    warnOnFailure(
        store.release(
            key(release.conversationId(), release.idempotencyKey()),
            Json.write(new Claim(release.claimedAt()))),
        "release the idempotency key of",
        release.conversationId());
    return Behaviors.same();
  }

  private static void warnOnFailure(CompletionStage<?> write, String what, String conversation) {
    write.whenComplete(
        (ok, failure) -> {
          if (failure != null) {
            log.warn("could not {} {}: {}", what, conversation, failure.toString());
          }
        });
  }

  private static LookupResult parse(String idempotencyKey, Optional<String> stored) {
    if (stored.isEmpty()) {
      return new Claimed(idempotencyKey);
    }
    try {
      JsonNode value = Json.mapper().readTree(stored.get());
      if (value.has("seq")) {
        return new AlreadyAcked(idempotencyKey, Json.mapper().treeToValue(value, Original.class));
      }
      Claim claim = Json.mapper().treeToValue(value, Claim.class);
      return new ClaimedEarlier(idempotencyKey, claim.claimedAt());
    } catch (IOException | IllegalArgumentException corrupt) {
      // Neither an ack nor a claim: answering "free" could double a message, so fail the send.
      log.warn("unreadable dedup entry {}: {}", stored.get(), corrupt.getMessage());
      return new Failed(idempotencyKey);
    }
  }
}
