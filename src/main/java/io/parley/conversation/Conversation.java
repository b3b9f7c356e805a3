package io.parley.conversation;

import com.typesafe.config.Config;
import io.parley.CborSerializable;
import io.parley.pipeline.MessageRecord;
import io.parley.pipeline.Publisher;
import io.parley.registry.Dedup;
import io.parley.routing.Fanout;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * A conversation: its members and the only source of its sequence numbers.
 *
 * <p>Guarantees: per conversation, {@code seq} strictly increases and is never reused. Seqs are
 * reserved in durable blocks ({@link SeqReserved}) ahead of use, so the send path writes nothing to
 * Cassandra; a clean stop (passivation, shard hand-off) checkpoints the last seq used, so seqs stay
 * dense in normal operation, and after a crash they jump by at most one block.
 *
 * <p>Send path: in-memory retry check, then the Redis idempotency key ({@link Dedup}, claimed in
 * the same round trip), then a seq, then Kafka ({@link Publisher}); the sender is acked and members
 * are delivered to only after the broker's ack. Retries of a message still in flight wait for its
 * ack instead of resending. A retry that finds an earlier attempt's claim and no answer is settled
 * from the Kafka log (ADR 0008).
 */
public final class Conversation {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Conversation");

  // ---- protocol -------------------------------------------------------------------------

  public interface Command extends CborSerializable {}

  public record Create(
      String creatorId, List<String> members, String title, ActorRef<Reply> replyTo)
      implements Command {}

  public record AddMember(String requesterId, String userId, ActorRef<Reply> replyTo)
      implements Command {}

  public record GetInfo(String requesterId, ActorRef<Reply> replyTo) implements Command {}

  public record Send(
      String senderId, String deviceId, String idempotencyKey, String body, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * The recent acked messages with {@code afterSeq < seq < beforeSeq}, at most {@code limit}, from
   * the {@code keep} end; answered with {@link Recent} (members only).
   */
  public record GetRecent(
      String requesterId,
      long afterSeq,
      long beforeSeq,
      int limit,
      Keep keep,
      ActorRef<Reply> replyTo)
      implements Command {}

  /** Which end of a range to keep when it holds more than the limit. */
  public enum Keep {
    OLDEST,
    NEWEST
  }

  /**
   * A member's device has {@code kind} (delivered or read) everything up to {@code seq}; answered
   * with {@link Receipted}. Read marks are stored; both kinds go to the members' other devices.
   */
  public record MarkReceipt(
      String userId, String deviceId, long seq, ReceiptKind kind, ActorRef<Reply> replyTo)
      implements Command {}

  public enum ReceiptKind {
    DELIVERED,
    READ
  }

  /**
   * Writes users' rows of the conversation list ({@link ConversationIndex}). The conversation
   * writes them before the event that makes the users members, so a member is never missing from
   * their list (ADR 0009).
   */
  @FunctionalInterface
  public interface MemberIndex {
    CompletionStage<Done> add(List<String> userIds, String conversationId, String title);
  }

  /** Finds a conversation's record in the Kafka log by idempotency key, from a time on. */
  @FunctionalInterface
  public interface LogSearch {
    CompletionStage<Optional<MessageRecord>> find(
        String conversationId, String idempotencyKey, Instant from);
  }

  public sealed interface Reply extends CborSerializable
      permits Info, Acked, Recent, Receipted, Rejected {}

  /**
   * {@code lastSeq}: the last acked seq (after a crash, an upper bound until new messages); {@code
   * readSeq}: how far the asking member has read.
   */
  public record Info(
      String conversationId, List<String> members, String title, long lastSeq, long readSeq)
      implements Reply {}

  /** The receipt is accepted; {@code readSeq} is the member's read mark after it. */
  public record Receipted(String conversationId, long readSeq) implements Reply {}

  public record Acked(String conversationId, String idempotencyKey, long seq, Instant sentAt)
      implements Reply {}

  public record Rejected(Failure failure, String message) implements Reply {}

  /**
   * Recent messages; every acked message with {@code seq > floor} is held in memory, so a range
   * above the floor is complete without Cassandra. {@code cut}: the range went on past the reply's
   * byte budget (from the far end of {@code keep}); the asker pages on.
   */
  public record Recent(List<MessageRecord> messages, long floor, long lastAcked, boolean cut)
      implements Reply {}

  public enum Failure {
    NOT_FOUND,
    FORBIDDEN,
    INVALID,
    CONFLICT,
    UNAVAILABLE
  }

  // ---- events and state -----------------------------------------------------------------

  public interface Event extends CborSerializable {}

  public record Created(
      String conversationId, List<String> members, String title, Instant createdAt)
      implements Event {}

  public record MemberAdded(String conversationId, String userId, String addedBy)
      implements Event {}

  /** Seqs up to {@code upTo} may be used; a restarted entity continues after it. */
  public record SeqReserved(String conversationId, long upTo) implements Event {}

  /** A clean stop released the unused part of the reservation: continue after {@code lastSeq}. */
  public record SeqCheckpointed(String conversationId, long lastSeq) implements Event {}

  /** {@code userId} has read everything up to {@code seq}. */
  public record ReadMarked(String conversationId, String userId, long seq) implements Event {}

  /** {@code readSeqs}: each member's read mark; members who never read are absent. */
  public record State(
      List<String> members, String title, long reservedUpTo, Map<String, Long> readSeqs)
      implements CborSerializable {
    static final State EMPTY = new State(List.of(), null, 0, Map.of());

    public State {
      readSeqs = readSeqs == null ? Map.of() : Map.copyOf(readSeqs);
    }

    long readSeq(String userId) {
      return readSeqs.getOrDefault(userId, 0L);
    }

    State readUpTo(String userId, long seq) {
      Map<String, Long> marks = new HashMap<>(readSeqs);
      marks.merge(userId, seq, Math::max);
      return new State(members, title, reservedUpTo, marks);
    }

    boolean exists() {
      return !members.isEmpty();
    }

    boolean isMember(String userId) {
      return members.contains(userId);
    }

    State withMember(String userId) {
      List<String> grown = new ArrayList<>(members);
      grown.add(userId);
      return new State(List.copyOf(grown), title, reservedUpTo, readSeqs);
    }

    State reservedUpTo(long upTo) {
      return new State(members, title, upTo, readSeqs);
    }
  }

  /** Collaborators on the entity's node and its limits. */
  public record Settings(
      ActorRef<Dedup.Command> dedup,
      ActorRef<Publisher.Command> publisher,
      ActorRef<Fanout.Command> fanout,
      MemberIndex memberIndex,
      int seqBlockSize,
      int maxMembers,
      int maxTitleLength,
      int recentMessages,
      /* bytes of recent messages in one reply: it must fit in one remote (Artery) frame */
      long recentReplyBytes,
      LogSearch log,
      /* a claim older than this has no attempt under way any more (ADR 0008) */
      Duration inDoubtAfter,
      Clock clock) {

    public static Settings fromConfig(
        Config config,
        ActorRef<Dedup.Command> dedup,
        ActorRef<Publisher.Command> publisher,
        ActorRef<Fanout.Command> fanout,
        MemberIndex memberIndex,
        LogSearch log) {
      Config limits = config.getConfig("parley.conversation");
      return new Settings(
          dedup,
          publisher,
          fanout,
          memberIndex,
          limits.getInt("seq-block-size"),
          limits.getInt("max-members"),
          limits.getInt("max-title-length"),
          limits.getInt("recent-messages"),
          recentReplyBytes(config),
          log,
          Publisher.inDoubtAfter(config),
          Clock.systemUTC());
    }

    /** Three quarters of Artery's frame: room for the reply's envelope and estimate error. */
    private static long recentReplyBytes(Config config) {
      return config.getBytes("pekko.remote.artery.advanced.maximum-frame-size") * 3 / 4;
    }
  }

  // ---- sharding -------------------------------------------------------------------------

  /**
   * Starts sharding of conversations on this node; {@code settings} name this node's collaborators.
   */
  public static void init(ActorSystem<?> system, Settings settings) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, entity -> create(entity.getEntityId(), settings))
                .withStopMessage(ConversationEntity.stopMessage()));
  }

  public static Behavior<Command> create(String conversationId, Settings settings) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("conversationId", conversationId),
        Behaviors.setup(context -> new ConversationEntity(context, conversationId, settings)));
  }

  /** The stop message, for tests in this package (it is sharding's to send). */
  static Command stop() {
    return ConversationEntity.stopMessage();
  }

  private Conversation() {}
}
