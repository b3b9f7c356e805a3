package io.parley.conversation;

import io.parley.Ids;
import io.parley.conversation.Conversation.AddMember;
import io.parley.conversation.Conversation.Command;
import io.parley.conversation.Conversation.Create;
import io.parley.conversation.Conversation.Created;
import io.parley.conversation.Conversation.Event;
import io.parley.conversation.Conversation.Failure;
import io.parley.conversation.Conversation.GetInfo;
import io.parley.conversation.Conversation.GetRecent;
import io.parley.conversation.Conversation.Info;
import io.parley.conversation.Conversation.MarkReceipt;
import io.parley.conversation.Conversation.MemberAdded;
import io.parley.conversation.Conversation.ReadMarked;
import io.parley.conversation.Conversation.ReceiptKind;
import io.parley.conversation.Conversation.Receipted;
import io.parley.conversation.Conversation.Recent;
import io.parley.conversation.Conversation.Rejected;
import io.parley.conversation.Conversation.Reply;
import io.parley.conversation.Conversation.Send;
import io.parley.conversation.Conversation.SeqCheckpointed;
import io.parley.conversation.Conversation.SeqReserved;
import io.parley.conversation.Conversation.Settings;
import io.parley.conversation.Conversation.State;
import io.parley.pipeline.Publisher;
import io.parley.registry.Dedup;
import io.parley.routing.Fanout;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The behavior of one {@link Conversation} (its protocol, events and state are there, named as
 * stored): membership and receipts here, the send path in its {@link SendPipeline}.
 */
final class ConversationEntity
    extends EventSourcedBehaviorWithEnforcedReplies<Command, Event, State> {

  /** Sent by sharding on passivation and hand-off ({@code withStopMessage}), never by others. */
  private record Stop() implements Command {}

  /** Sharding's stop message (see {@link Conversation#init}). */
  static Command stopMessage() {
    return new Stop();
  }

  private record DedupAnswered(Dedup.LookupResult result) implements Command {}

  private record PublishAnswered(Publisher.Result result) implements Command {}

  /** The index rows of a {@link Create} are written: now its event may be persisted. */
  private record CreateIndexed(Create create) implements Command {}

  /** The index row of an {@link AddMember} is written: now its event may be persisted. */
  private record AddIndexed(AddMember add) implements Command {}

  /** The index rows of a membership change could not be written: nothing is persisted. */
  private record IndexFailed(ActorRef<Reply> replyTo, Throwable failure) implements Command {}

  /** A stop waited long enough for Kafka's answers to the sends in flight (see onStop). */
  private record StopWaitOver() implements Command {}

  /** The Kafka log's answer for a send left in doubt (ADR 0008). */
  private record InDoubtSettled(String idempotencyKey, SendPipeline.LogAnswer answer)
      implements Command {}

  private final ActorContext<Command> context;
  private final String conversationId;
  private final Settings settings;
  private final SendPipeline sends;

  /** Each member's delivered mark, forwarded only when it grows; not stored, so not recovered. */
  private final Map<String, Long> deliveredSeqs = new HashMap<>();

  ConversationEntity(ActorContext<Command> context, String conversationId, Settings settings) {
    super(
        PersistenceId.of(Conversation.ENTITY_KEY.name(), conversationId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.context = context;
    this.conversationId = conversationId;
    this.settings = settings;
    this.sends =
        new SendPipeline(
            conversationId,
            settings,
            context.messageAdapter(Dedup.LookupResult.class, DedupAnswered::new),
            context.messageAdapter(Publisher.Result.class, PublishAnswered::new));
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
        .onSignal(RecoveryCompleted.instance(), state -> sends.recovered(state.reservedUpTo()))
        // A failed reservation (Cassandra down) restarts the entity: its waiting sends go back.
        .onSignal(PreRestart.instance(), state -> sends.abandonUnpublished())
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
            DedupAnswered.class,
            (state, answered) -> carryOut(sends.lookedUp(answered.result(), state.reservedUpTo())))
        .onCommand(PublishAnswered.class, this::onPublishAnswered)
        .onCommand(InDoubtSettled.class, this::onInDoubtSettled)
        .onCommand(CreateIndexed.class, (state, indexed) -> commitCreate(state, indexed.create()))
        .onCommand(AddIndexed.class, (state, indexed) -> commitAdd(state, indexed.add()))
        .onCommand(IndexFailed.class, this::onIndexFailed)
        .onCommand(Stop.class, this::onStop)
        .onCommand(StopWaitOver.class, this::onStopWaitOver)
        .build();
  }

  private ReplyEffect<Event, State> onCreate(State state, Create create) {
    Rejected invalid = refuseCreate(state, create);
    if (invalid != null) {
      return Effect().reply(create.replyTo(), invalid);
    }
    return indexFirst(
        membersOf(create), create.title(), create.replyTo(), () -> new CreateIndexed(create));
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
    return indexFirst(
        List.of(add.userId()), state.title(), add.replyTo(), () -> new AddIndexed(add));
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
   * Writes the users' list rows, then (on {@code written}) persists the membership. A row whose
   * event never follows is harmless: the list skips conversations that do not count the user as a
   * member.
   */
  private ReplyEffect<Event, State> indexFirst(
      List<String> userIds, String title, ActorRef<Reply> replyTo, Supplier<Command> written) {
    context.pipeToSelf(
        settings.memberIndex().add(userIds, conversationId, title),
        (done, failure) -> failure == null ? written.get() : new IndexFailed(replyTo, failure));
    // Answered once the rows are written (CreateIndexed, AddIndexed or IndexFailed).
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onIndexFailed(State state, IndexFailed failed) {
    context.getLog().warn("membership not saved: the list index failed", failed.failure());
    return Effect()
        .reply(
            failed.replyTo(),
            new Rejected(Failure.UNAVAILABLE, "the membership could not be saved, try again"));
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
        sends.recent().between(get.afterSeq(), get.beforeSeq(), get.limit(), get.keep());
    return Effect()
        .reply(
            get.replyTo(),
            new Recent(
                range.messages(), sends.recent().floor(), sends.recent().lastAcked(), range.cut()));
  }

  private ReplyEffect<Event, State> onMarkReceipt(State state, MarkReceipt mark) {
    Rejected denied = checkMember(state, mark.userId());
    if (denied == null && (mark.seq() < 1 || mark.seq() > sends.recent().lastAcked())) {
      denied =
          new Rejected(
              Failure.INVALID, "seq " + mark.seq() + " is not a message of " + conversationId);
    }
    if (denied != null) {
      return Effect().reply(mark.replyTo(), denied);
    }
    if (mark.kind() == ReceiptKind.DELIVERED) {
      onDelivered(state, mark);
    } else if (state.readSeq(mark.userId()) < mark.seq()) {
      return Effect()
          .persist(new ReadMarked(conversationId, mark.userId(), mark.seq()))
          .thenRun(marked -> forwardReceipt(marked, mark))
          .thenReply(mark.replyTo(), marked -> receipted(marked, mark));
    }
    return Effect().reply(mark.replyTo(), receipted(state, mark));
  }

  /** Not stored: forwarded to the other devices when it grows. */
  private void onDelivered(State state, MarkReceipt mark) {
    if (deliveredSeqs.getOrDefault(mark.userId(), 0L) < mark.seq()) {
      deliveredSeqs.put(mark.userId(), mark.seq());
      forwardReceipt(state, mark);
    }
  }

  private Receipted receipted(State state, MarkReceipt mark) {
    return new Receipted(conversationId, state.readSeq(mark.userId()));
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
    Optional<Rejected> refused =
        Optional.ofNullable(checkMember(state, send.senderId())).or(() -> sends.accept(send));
    return refused
        .map(rejected -> Effect().reply(send.replyTo(), rejected))
        // Taken: the pipeline answers every sender of it once Redis and Kafka have answered.
        .orElseGet(() -> Effect().noReply());
  }

  /**
   * What the pipeline left to the entity. Internal messages have no sender to answer: a send's
   * answers go, from the pipeline, to everyone who sent it (its retries in flight too).
   */
  private ReplyEffect<Event, State> carryOut(SendPipeline.Step step) {
    if (step instanceof SendPipeline.ReserveThenPublish reserve) {
      return Effect()
          .persist(new SeqReserved(conversationId, reserve.upTo()))
          .thenRun(reserved -> sends.publish(reserve.idempotencyKey()))
          .thenNoReply();
    }
    if (step instanceof SendPipeline.ReserveAhead ahead) {
      return Effect().persist(new SeqReserved(conversationId, ahead.upTo())).thenNoReply();
    }
    if (step instanceof SendPipeline.SearchLog search) {
      String key = search.idempotencyKey();
      context.pipeToSelf(
          settings.log().find(conversationId, key, search.claimedAt()),
          (written, failure) ->
              new InDoubtSettled(key, SendPipeline.LogAnswer.of(written, failure)));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onInDoubtSettled(State state, InDoubtSettled settled) {
    sends.settled(settled.idempotencyKey(), settled.answer());
    return Effect().noReply(); // internal: the pipeline answered the send's senders
  }

  private ReplyEffect<Event, State> onPublishAnswered(State state, PublishAnswered answered) {
    boolean stopDue = sends.answered(answered.result(), state.members());
    // Internal: the pipeline answered the send's senders.
    return stopDue ? stopNow(state) : Effect().noReply();
  }

  /**
   * Passivation or hand-off: the sends at Kafka are waited for (see {@link SendPipeline#stop}). The
   * Publisher answers within its deadline; the timer is for a Publisher that never does.
   */
  private ReplyEffect<Event, State> onStop(State state, Stop stop) {
    if (sends.stop()) {
      return stopNow(state);
    }
    context.scheduleOnce(settings.inDoubtAfter(), context.getSelf(), new StopWaitOver());
    return Effect().noReply(); // sharding's stop message expects no answer
  }

  private ReplyEffect<Event, State> onStopWaitOver(State state, StopWaitOver over) {
    if (!sends.stopping()) {
      return Effect().noReply(); // internal timer: no sender to answer
    }
    context.getLog().warn("stopping with {} sends unanswered by Kafka", sends.atKafka());
    return stopNow(state);
  }

  /** A stop answers no one (sharding expects no reply); it checkpoints the last seq used. */
  private ReplyEffect<Event, State> stopNow(State state) {
    if (!state.exists() || sends.lastSeq() == state.reservedUpTo()) {
      return Effect().stop().thenNoReply();
    }
    return Effect()
        .persist(new SeqCheckpointed(conversationId, sends.lastSeq()))
        .thenStop()
        .thenNoReply();
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
        sends.recent().lastAcked(),
        state.readSeq(requesterId));
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
