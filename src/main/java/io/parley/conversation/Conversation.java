package io.parley.conversation;

import com.typesafe.config.Config;
import io.parley.CborSerializable;
import io.parley.Ids;
import io.parley.pipeline.MessageRecord;
import io.parley.pipeline.Publisher;
import io.parley.registry.Dedup;
import io.parley.routing.Fanout;
import io.parley.routing.NodeRouter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

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
public final class Conversation
    extends EventSourcedBehaviorWithEnforcedReplies<
        Conversation.Command, Conversation.Event, Conversation.State> {

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

  /** Sent by sharding on passivation and hand-off. */
  public record Stop() implements Command {}

  private record DedupAnswered(Dedup.LookupResult result) implements Command {}

  private record PublishAnswered(Publisher.Result result) implements Command {}

  /**
   * The index rows of a {@link Create} or {@link AddMember} are written, or {@code failure} says
   * why not; only then is the membership event persisted.
   */
  private record MembersIndexed(Command request, Throwable failure) implements Command {}

  /** A stop waited long enough for Kafka's answers to the sends in flight (see onStop). */
  private record StopWaitOver() implements Command {}

  /** The Kafka log's answer for a send left in doubt: the earlier attempt's record, if written. */
  private record InDoubtSettled(
      String idempotencyKey, Optional<MessageRecord> written, boolean failed) implements Command {}

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

  // ---- behavior -------------------------------------------------------------------------

  private final ActorContext<Command> context;
  private final String conversationId;
  private final Settings settings;
  private final ActorRef<Dedup.LookupResult> dedupReplies;
  private final ActorRef<Publisher.Result> publishReplies;

  /** Sends not yet acked, by idempotency key: the first one plus retries waiting for it. */
  private final Map<String, Pending> pending = new HashMap<>();

  /** The sends at Kafka, by seq. */
  private final NavigableMap<Long, Pending> publishing = new TreeMap<>();

  private long lastSeq;
  private RecentMessages recent;

  /** A stop is waiting for Kafka to answer the sends in flight; new sends are turned away. */
  private boolean stopping;

  /** Each member's delivered mark, forwarded only when it grows; not stored, so not recovered. */
  private final Map<String, Long> deliveredSeqs = new HashMap<>();

  /**
   * A send in flight: {@code seq} is 0 while its idempotency key is looked up; {@code result} is
   * Kafka's answer, kept until every lower seq is answered too.
   */
  private static final class Pending {
    final Send first;
    final List<ActorRef<Reply>> waiters = new ArrayList<>();

    /** When this attempt claimed (or will claim) the idempotency key. */
    Instant claimedAt;

    /** The log is being asked about an earlier attempt's claim, which is not ours to release. */
    boolean settling;

    long seq;
    Publisher.Result result;

    Pending(Send first, Instant claimedAt) {
      this.first = first;
      this.claimedAt = claimedAt;
      waiters.add(first.replyTo());
    }
  }

  /**
   * Starts sharding of conversations on this node; {@code settings} name this node's collaborators.
   */
  public static void init(ActorSystem<?> system, Settings settings) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, entity -> create(entity.getEntityId(), settings))
                .withStopMessage(new Stop()));
  }

  public static Behavior<Command> create(String conversationId, Settings settings) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("conversationId", conversationId),
        Behaviors.setup(context -> new Conversation(context, conversationId, settings)));
  }

  private Conversation(ActorContext<Command> context, String conversationId, Settings settings) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), conversationId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.context = context;
    this.conversationId = conversationId;
    this.settings = settings;
    this.dedupReplies = context.messageAdapter(Dedup.LookupResult.class, DedupAnswered::new);
    this.publishReplies = context.messageAdapter(Publisher.Result.class, PublishAnswered::new);
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              lastSeq = state.reservedUpTo();
              // Whatever an earlier incarnation acked is at or below the recovered seq.
              recent =
                  new RecentMessages(
                      settings.recentMessages(), settings.recentReplyBytes(), lastSeq);
            })
        // A failed reservation (Cassandra down) restarts the entity: its waiting sends go back.
        .onSignal(PreRestart.instance(), state -> abandonUnpublished())
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(AddMember.class, this::onAddMember)
        .onCommand(GetInfo.class, this::onGetInfo)
        .onCommand(Send.class, this::onSend)
        .onCommand(GetRecent.class, this::onGetRecent)
        .onCommand(MarkReceipt.class, this::onMarkReceipt)
        .onCommand(
            DedupAnswered.class, (state, answered) -> onDedupAnswered(state, answered.result()))
        .onCommand(
            PublishAnswered.class, (state, answered) -> onPublishAnswered(state, answered.result()))
        .onCommand(InDoubtSettled.class, this::onInDoubtSettled)
        .onCommand(MembersIndexed.class, this::onMembersIndexed)
        .onCommand(Stop.class, this::onStop)
        .onCommand(StopWaitOver.class, this::onStopWaitOver)
        .build();
  }

  private ReplyEffect<Event, State> onCreate(State state, Create create) {
    Rejected invalid = refuseCreate(state, create);
    if (invalid != null) {
      return Effect().reply(create.replyTo(), invalid);
    }
    return indexFirst(create, membersOf(create), create.title());
  }

  private Rejected refuseCreate(State state, Create create) {
    if (state.exists()) {
      return new Rejected(Failure.CONFLICT, conversationId + " exists");
    }
    Set<String> members = new LinkedHashSet<>(membersOf(create));
    String invalid = firstInvalidId(members);
    if (invalid != null) {
      return new Rejected(Failure.INVALID, "invalid user id: " + invalid);
    }
    if (members.size() > settings.maxMembers()) {
      return tooManyMembers();
    }
    if (create.title() != null && create.title().length() > settings.maxTitleLength()) {
      return new Rejected(Failure.INVALID, "title longer than " + settings.maxTitleLength());
    }
    return null;
  }

  /** The creator first, then the others, each once. */
  private static List<String> membersOf(Create create) {
    Set<String> members = new LinkedHashSet<>();
    members.add(create.creatorId());
    members.addAll(create.members());
    return List.copyOf(members);
  }

  private ReplyEffect<Event, State> commitCreate(State state, Create create) {
    // Checked again: the state may have changed while the index was written.
    Rejected invalid = refuseCreate(state, create);
    if (invalid != null) {
      return Effect().reply(create.replyTo(), invalid);
    }
    Created created =
        new Created(conversationId, membersOf(create), create.title(), settings.clock().instant());
    return Effect()
        .persist(created)
        .thenReply(create.replyTo(), after -> info(after, create.creatorId()));
  }

  private ReplyEffect<Event, State> onAddMember(State state, AddMember add) {
    Reply answer = answerWithoutAdding(state, add);
    if (answer != null) {
      return Effect().reply(add.replyTo(), answer);
    }
    return indexFirst(add, List.of(add.userId()), state.title());
  }

  /** A refusal, the conversation as it is when the user is a member already, or null to add. */
  private Reply answerWithoutAdding(State state, AddMember add) {
    Rejected denied = checkMember(state, add.requesterId());
    if (denied != null) {
      return denied;
    }
    if (!Ids.isValid(add.userId())) {
      return new Rejected(Failure.INVALID, "invalid user id");
    }
    if (state.isMember(add.userId())) {
      return info(state, add.requesterId());
    }
    if (state.members().size() >= settings.maxMembers()) {
      return tooManyMembers();
    }
    return null;
  }

  private ReplyEffect<Event, State> commitAdd(State state, AddMember add) {
    Reply answer = answerWithoutAdding(state, add);
    if (answer != null) {
      return Effect().reply(add.replyTo(), answer);
    }
    return Effect()
        .persist(new MemberAdded(conversationId, add.userId(), add.requesterId()))
        .thenReply(add.replyTo(), added -> info(added, add.requesterId()));
  }

  /**
   * Writes the users' list rows, then (on {@link MembersIndexed}) persists the membership. A row
   * whose event never follows is harmless: the list skips conversations that do not count the user
   * as a member.
   */
  private ReplyEffect<Event, State> indexFirst(
      Command request, List<String> userIds, String title) {
    context.pipeToSelf(
        settings.memberIndex().add(userIds, conversationId, title),
        (done, failure) -> new MembersIndexed(request, failure));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onMembersIndexed(State state, MembersIndexed indexed) {
    if (indexed.failure() != null) {
      context.getLog().warn("membership not saved: the list index failed", indexed.failure());
      ActorRef<Reply> replyTo =
          indexed.request() instanceof Create create
              ? create.replyTo()
              : ((AddMember) indexed.request()).replyTo();
      return Effect()
          .reply(
              replyTo,
              new Rejected(Failure.UNAVAILABLE, "the membership could not be saved, try again"));
    }
    return indexed.request() instanceof Create create
        ? commitCreate(state, create)
        : commitAdd(state, (AddMember) indexed.request());
  }

  private ReplyEffect<Event, State> onGetInfo(State state, GetInfo get) {
    Rejected denied = checkMember(state, get.requesterId());
    return Effect().reply(get.replyTo(), denied != null ? denied : info(state, get.requesterId()));
  }

  private ReplyEffect<Event, State> onGetRecent(State state, GetRecent get) {
    Rejected denied = checkMember(state, get.requesterId());
    if (denied != null) {
      return Effect().reply(get.replyTo(), denied);
    }
    RecentMessages.Range range =
        recent.between(get.afterSeq(), get.beforeSeq(), get.limit(), get.keep());
    return Effect()
        .reply(
            get.replyTo(),
            new Recent(range.messages(), recent.floor(), recent.lastAcked(), range.cut()));
  }

  private ReplyEffect<Event, State> onMarkReceipt(State state, MarkReceipt mark) {
    Rejected denied = checkMember(state, mark.userId());
    if (denied == null && (mark.seq() < 1 || mark.seq() > recent.lastAcked())) {
      denied =
          new Rejected(
              Failure.INVALID, "seq " + mark.seq() + " is not a message of " + conversationId);
    }
    if (denied != null) {
      return Effect().reply(mark.replyTo(), denied);
    }
    if (mark.kind() == ReceiptKind.DELIVERED) {
      if (deliveredSeqs.getOrDefault(mark.userId(), 0L) < mark.seq()) {
        deliveredSeqs.put(mark.userId(), mark.seq());
        forwardReceipt(state, mark);
      }
      return Effect()
          .reply(mark.replyTo(), new Receipted(conversationId, state.readSeq(mark.userId())));
    }
    if (state.readSeq(mark.userId()) >= mark.seq()) {
      return Effect()
          .reply(mark.replyTo(), new Receipted(conversationId, state.readSeq(mark.userId())));
    }
    return Effect()
        .persist(new ReadMarked(conversationId, mark.userId(), mark.seq()))
        .thenRun(marked -> forwardReceipt(marked, mark))
        .thenReply(
            mark.replyTo(), marked -> new Receipted(conversationId, marked.readSeq(mark.userId())));
  }

  /** To every member's devices but the one that sent it: the reader's other devices follow too. */
  private void forwardReceipt(State state, MarkReceipt mark) {
    NodeRouter.ReceiptPush receipt =
        new NodeRouter.ReceiptPush(
            conversationId, mark.userId(), mark.seq(), mark.kind().name().toLowerCase(Locale.ROOT));
    settings
        .fanout()
        .tell(
            new Fanout.Deliver(
                receipt,
                new NodeRouter.Recipient(mark.userId(), mark.deviceId()),
                state.members()));
  }

  private ReplyEffect<Event, State> onSend(State state, Send send) {
    Rejected denied = checkMember(state, send.senderId());
    if (denied != null) {
      return Effect().reply(send.replyTo(), denied);
    }
    Pending inFlight = pending.get(send.idempotencyKey());
    if (inFlight != null) {
      inFlight.waiters.add(send.replyTo());
      return Effect().noReply();
    }
    if (stopping) {
      return Effect()
          .reply(
              send.replyTo(), new Rejected(Failure.UNAVAILABLE, "conversation moving, try again"));
    }
    Pending attempt = new Pending(send, settings.clock().instant());
    pending.put(send.idempotencyKey(), attempt);
    settings
        .dedup()
        .tell(
            new Dedup.Lookup(
                conversationId, send.idempotencyKey(), attempt.claimedAt, false, dedupReplies));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onDedupAnswered(State state, Dedup.LookupResult result) {
    Pending send = pending.get(result.idempotencyKey());
    if (send == null || send.seq != 0) {
      return Effect().noReply();
    }
    if (result.failed()) {
      pending.remove(result.idempotencyKey());
      replyAll(send, new Rejected(Failure.UNAVAILABLE, "try again later"));
      return Effect().noReply();
    }
    if (result.original().isPresent()) {
      pending.remove(result.idempotencyKey());
      Dedup.Original original = result.original().get();
      replyAll(
          send,
          new Acked(conversationId, result.idempotencyKey(), original.seq(), original.sentAt()));
      return Effect().noReply();
    }
    if (result.claimedEarlier().isPresent()) {
      return settleInDoubt(send, result.claimedEarlier().get());
    }
    return assignSeq(state, send);
  }

  /**
   * An earlier attempt claimed this key and left no answer: its node died, or Kafka's answer was
   * lost. Only the log knows whether it was written, and the log is asked only once no attempt can
   * still be under way; until then the retry is told to come back.
   */
  private ReplyEffect<Event, State> settleInDoubt(Pending send, Instant claimedAt) {
    String key = send.first.idempotencyKey();
    if (settings.clock().instant().isBefore(claimedAt.plus(settings.inDoubtAfter()))) {
      pending.remove(key);
      replyAll(send, new Rejected(Failure.UNAVAILABLE, "an earlier attempt is in flight, retry"));
      return Effect().noReply();
    }
    send.settling = true;
    context.pipeToSelf(
        settings.log().find(conversationId, key, claimedAt),
        (written, failure) -> new InDoubtSettled(key, written, failure != null));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onInDoubtSettled(State state, InDoubtSettled settled) {
    String key = settled.idempotencyKey();
    Pending send = pending.get(key);
    if (send == null || send.seq != 0) {
      return Effect().noReply();
    }
    if (settled.failed()) {
      pending.remove(key);
      replyAll(send, new Rejected(Failure.UNAVAILABLE, "message log unavailable, try again"));
    } else if (settled.written().isPresent()) {
      // Written: the original ack again. Not pushed now: members find it by sync, as any message
      // behind a seq jump (protocol.md guarantee 2).
      pending.remove(key);
      MessageRecord record = settled.written().get();
      Dedup.Original original = new Dedup.Original(record.seq(), record.sentAt());
      settings.dedup().tell(new Dedup.Remember(conversationId, key, original));
      replyAll(send, new Acked(conversationId, key, record.seq(), record.sentAt()));
    } else {
      // Never written: this attempt takes the claim over (freshly dated) and goes ahead.
      send.settling = false;
      send.claimedAt = settings.clock().instant();
      settings
          .dedup()
          .tell(new Dedup.Lookup(conversationId, key, send.claimedAt, true, dedupReplies));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> assignSeq(State state, Pending send) {
    if (lastSeq >= state.reservedUpTo()) {
      // The reservation is used up: wait for the next block before handing out a seq.
      return Effect()
          .persist(new SeqReserved(conversationId, lastSeq + settings.seqBlockSize()))
          .thenRun(reserved -> publish(send))
          .thenNoReply();
    }
    publish(send); // this seq is inside a block that is already durable
    if (state.reservedUpTo() - lastSeq < settings.seqBlockSize() / 2) {
      return Effect()
          .persist(new SeqReserved(conversationId, state.reservedUpTo() + settings.seqBlockSize()))
          .thenNoReply();
    }
    return Effect().noReply();
  }

  private void publish(Pending send) {
    send.seq = ++lastSeq;
    publishing.put(send.seq, send);
    Send first = send.first;
    MessageRecord record =
        new MessageRecord(
            conversationId,
            send.seq,
            first.senderId(),
            first.deviceId(),
            first.idempotencyKey(),
            first.body(),
            settings.clock().instant());
    settings.publisher().tell(new Publisher.Publish(record, send.claimedAt, publishReplies));
  }

  /**
   * Kafka's answers can reach this actor out of order (futures complete on a thread pool), but acks
   * and deliveries go out in seq order: an answer waits until every lower seq is answered.
   */
  private ReplyEffect<Event, State> onPublishAnswered(State state, Publisher.Result result) {
    Pending answered = publishing.get(result.record().seq());
    if (answered != null) {
      answered.result = result;
    }
    while (!publishing.isEmpty() && publishing.firstEntry().getValue().result != null) {
      Pending next = publishing.pollFirstEntry().getValue();
      pending.remove(next.first.idempotencyKey());
      emit(state, next);
    }
    return stopping && publishing.isEmpty() ? stopNow(state) : Effect().noReply();
  }

  private void emit(State state, Pending send) {
    MessageRecord record = send.result.record();
    if (send.result instanceof Publisher.Published) {
      recent.add(record);
      replyAll(
          send, new Acked(conversationId, record.idempotencyKey(), record.seq(), record.sentAt()));
      settings.fanout().tell(Fanout.Deliver.message(record, state.members()));
    } else {
      // The seq is burnt (a jump, as after a failure): reusing it could reorder the log.
      replyAll(send, new Rejected(Failure.UNAVAILABLE, "message log unavailable, try again"));
    }
  }

  /**
   * Passivation or hand-off. Sends at Kafka are waited for: the next incarnation, maybe on another
   * node, must not publish higher seqs ahead of them, since the log's order is the seq order the
   * persister and readers trust (ADR 0006). Their senders get their acks. The Publisher answers
   * within its deadline; the timer is for a Publisher that never does.
   */
  private ReplyEffect<Event, State> onStop(State state, Stop stop) {
    abandonUnpublished();
    if (!publishing.isEmpty()) {
      stopping = true;
      context.scheduleOnce(settings.inDoubtAfter(), context.getSelf(), new StopWaitOver());
      return Effect().noReply();
    }
    return stopNow(state);
  }

  private ReplyEffect<Event, State> onStopWaitOver(State state, StopWaitOver over) {
    if (!stopping) {
      return Effect().noReply();
    }
    context.getLog().warn("stopping with {} sends unanswered by Kafka", publishing.size());
    return stopNow(state);
  }

  private ReplyEffect<Event, State> stopNow(State state) {
    if (!state.exists() || lastSeq == state.reservedUpTo()) {
      return Effect().stop().thenNoReply();
    }
    return Effect().persist(new SeqCheckpointed(conversationId, lastSeq)).thenStop().thenNoReply();
  }

  /**
   * On a hand-off, passivation or a restart after a journal failure: sends not yet at Kafka give
   * their claims back and their senders are told to retry, which the next incarnation then takes at
   * once instead of waiting out a claim in doubt. (Sends already at Kafka are answered by the
   * publisher's Remember.)
   */
  private void abandonUnpublished() {
    Iterator<Pending> sends = pending.values().iterator();
    while (sends.hasNext()) {
      Pending send = sends.next();
      if (send.seq == 0 && !send.settling) {
        String key = send.first.idempotencyKey();
        settings.dedup().tell(new Dedup.Release(conversationId, key, send.claimedAt));
        replyAll(send, new Rejected(Failure.UNAVAILABLE, "conversation moving, try again"));
        sends.remove();
      }
    }
  }

  private Rejected checkMember(State state, String userId) {
    if (!state.exists()) {
      return new Rejected(Failure.NOT_FOUND, "no conversation " + conversationId);
    }
    if (!state.isMember(userId)) {
      return new Rejected(Failure.FORBIDDEN, "not a member of " + conversationId);
    }
    return null;
  }

  private Rejected tooManyMembers() {
    return new Rejected(
        Failure.INVALID, "a conversation has at most " + settings.maxMembers() + " members");
  }

  private Info info(State state, String requesterId) {
    return new Info(
        conversationId,
        state.members(),
        state.title(),
        recent.lastAcked(),
        state.readSeq(requesterId));
  }

  private static void replyAll(Pending send, Reply reply) {
    send.waiters.forEach(waiter -> waiter.tell(reply));
  }

  private static String firstInvalidId(Set<String> ids) {
    return ids.stream().filter(id -> !Ids.isValid(id)).findFirst().orElse(null);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(
            Created.class,
            (state, created) -> new State(created.members(), created.title(), 0, Map.of()))
        .onEvent(MemberAdded.class, (state, added) -> state.withMember(added.userId()))
        .onEvent(SeqReserved.class, (state, reserved) -> state.reservedUpTo(reserved.upTo()))
        .onEvent(
            SeqCheckpointed.class, (state, checkpoint) -> state.reservedUpTo(checkpoint.lastSeq()))
        .onEvent(ReadMarked.class, (state, marked) -> state.readUpTo(marked.userId(), marked.seq()))
        .build();
  }
}
