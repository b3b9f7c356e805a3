package io.parley.conversation;

import io.parley.conversation.Conversation.Acked;
import io.parley.conversation.Conversation.Failure;
import io.parley.conversation.Conversation.Rejected;
import io.parley.conversation.Conversation.Reply;
import io.parley.conversation.Conversation.Send;
import io.parley.pipeline.MessageRecord;
import io.parley.pipeline.Publisher;
import io.parley.registry.Dedup;
import io.parley.routing.Fanout;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The send path of one conversation, owned and fed by its entity (not an actor: it runs on the
 * entity's thread). It tells the node's dedup, publisher and fan-out itself and answers the
 * senders; what only the entity can do (persist a seq reservation, search the log) it returns as a
 * {@link Step}.
 *
 * <p>Guarantees: a send is acked and delivered only after Kafka acked its record; acks and
 * deliveries go out in seq order; a retry of a key in flight waits for the first attempt's answer
 * (same ack, nothing published twice); a key found in Redis is answered with its original ack, from
 * any node; a claim left by an earlier attempt is settled from the Kafka log only once no attempt
 * can still land there (ADR 0008); an acked message is in {@link #recent()} before its ack goes out
 * (read-your-writes, ADR 0006). A seq handed to a failed publish is burnt (ADR 0002).
 *
 * <p>What it holds: the sends in flight by key (each with the senders waiting for it) and Kafka's
 * answers for seqs above an unanswered one. Both are bounded by the sends in flight, each of which
 * is answered within the publish deadline and Kafka's delivery timeout; {@link RecentMessages} is
 * bounded in count and bytes.
 */
final class SendPipeline {

  /** What the entity does next for a send. */
  sealed interface Step permits Done, ReserveAhead, ReserveThenPublish, SearchLog {}

  /** Nothing: the pipeline did what was due. */
  record Done() implements Step {}

  /** The send is at Kafka; persist the next block of seqs meanwhile. */
  record ReserveAhead(long upTo) implements Step {}

  /** The block is used up: persist seqs up to {@code upTo}, then {@link #publish} the send. */
  record ReserveThenPublish(long upTo, String idempotencyKey) implements Step {}

  /** Search the log for an earlier attempt, then feed the answer to {@link #settled}. */
  record SearchLog(String idempotencyKey, Instant claimedAt) implements Step {}

  /** The Kafka log's answer about a send left in doubt. */
  sealed interface LogAnswer permits FoundInLog, NotInLog, LogUnavailable {
    static LogAnswer of(Optional<MessageRecord> written, Throwable failure) {
      if (failure != null) {
        return new LogUnavailable();
      }
      return written.<LogAnswer>map(FoundInLog::new).orElseGet(NotInLog::new);
    }
  }

  /** The earlier attempt's record is in the log: it was sent. */
  record FoundInLog(MessageRecord record) implements LogAnswer {}

  /** No attempt is in the log, and none can still land there. */
  record NotInLog() implements LogAnswer {}

  /** The log could not be searched. */
  record LogUnavailable() implements LogAnswer {}

  private static final Step DONE = new Done();

  private enum Phase {
    /** Its key is being looked up (and claimed), or its seq block being persisted. */
    CLAIMING,
    /** An earlier attempt's claim is being settled from the log: that claim is not ours. */
    SETTLING,
    /** At Kafka with its seq. */
    PUBLISHING
  }

  /** A send in flight: the first attempt plus the retries waiting for it. */
  private static final class Pending {
    final Send first;
    final List<ActorRef<Reply>> waiters = new ArrayList<>();
    Phase phase = Phase.CLAIMING;

    /** When this attempt claimed (or will claim) the idempotency key. */
    Instant claimedAt;

    long seq;

    /** Kafka's answer, held until every lower seq is answered too. */
    Publisher.Result result;

    Pending(Send first, Instant claimedAt) {
      this.first = first;
      this.claimedAt = claimedAt;
      waiters.add(first.replyTo());
    }

    void answer(Reply reply) {
      waiters.forEach(waiter -> waiter.tell(reply));
    }
  }

  private final String conversationId;
  private final Conversation.Settings settings;
  private final ActorRef<Dedup.LookupResult> dedupReplies;
  private final ActorRef<Publisher.Result> publishReplies;

  private final Map<String, Pending> pending = new HashMap<>();
  private final NavigableMap<Long, Pending> publishing = new TreeMap<>();
  private long lastSeq;
  private RecentMessages recent;
  private boolean stopping;

  SendPipeline(
      String conversationId,
      Conversation.Settings settings,
      ActorRef<Dedup.LookupResult> dedupReplies,
      ActorRef<Publisher.Result> publishReplies) {
    this.conversationId = conversationId;
    this.settings = settings;
    this.dedupReplies = dedupReplies;
    this.publishReplies = publishReplies;
    recovered(0);
  }

  /** Seqs continue after {@code reservedUpTo}; whatever was acked before is at or below it. */
  void recovered(long reservedUpTo) {
    lastSeq = reservedUpTo;
    recent = new RecentMessages(settings.recentMessages(), settings.recentReplyBytes(), lastSeq);
  }

  RecentMessages recent() {
    return recent;
  }

  long lastSeq() {
    return lastSeq;
  }

  /** A stop waits for Kafka's answers to the sends at Kafka; new sends are turned away. */
  boolean stopping() {
    return stopping;
  }

  int atKafka() {
    return publishing.size();
  }

  /** Takes a member's send: empty when it will be answered later, else the refusal now. */
  Optional<Rejected> accept(Send send) {
    Pending inFlight = pending.get(send.idempotencyKey());
    if (inFlight != null) {
      inFlight.waiters.add(send.replyTo());
      return Optional.empty();
    }
    if (stopping) {
      return Optional.of(new Rejected(Failure.UNAVAILABLE, "conversation moving, try again"));
    }
    Pending attempt = new Pending(send, settings.clock().instant());
    pending.put(send.idempotencyKey(), attempt);
    lookUp(attempt, false);
    return Optional.empty();
  }

  private void lookUp(Pending send, boolean takeOverClaim) {
    settings
        .dedup()
        .tell(
            new Dedup.Lookup(
                conversationId,
                send.first.idempotencyKey(),
                send.claimedAt,
                takeOverClaim,
                dedupReplies));
  }

  /** Redis answered a lookup; {@code reservedUpTo}: the durable reservation. */
  Step lookedUp(Dedup.LookupResult result, long reservedUpTo) {
    Pending send = pending.get(result.idempotencyKey());
    if (send == null || send.phase == Phase.PUBLISHING) {
      return DONE; // an answer for an attempt no longer waiting for one
    }
    if (result instanceof Dedup.Claimed) {
      return assignSeq(send, reservedUpTo);
    }
    if (result instanceof Dedup.ClaimedEarlier earlier) {
      return settleInDoubt(send, earlier.claimedAt());
    }
    pending.remove(result.idempotencyKey());
    send.answer(
        result instanceof Dedup.AlreadyAcked acked
            ? acked(acked.idempotencyKey(), acked.original().seq(), acked.original().sentAt())
            : new Rejected(Failure.UNAVAILABLE, "try again later"));
    return DONE;
  }

  /**
   * An earlier attempt claimed this key and left no answer: its node died, or Kafka's answer was
   * lost. Only the log knows whether it was written, and the log is asked only once no attempt can
   * still be under way; until then the retry is told to come back.
   */
  private Step settleInDoubt(Pending send, Instant claimedAt) {
    String key = send.first.idempotencyKey();
    if (settings.clock().instant().isBefore(claimedAt.plus(settings.inDoubtAfter()))) {
      pending.remove(key);
      send.answer(new Rejected(Failure.UNAVAILABLE, "an earlier attempt is in flight, retry"));
      return DONE;
    }
    send.phase = Phase.SETTLING;
    return new SearchLog(key, claimedAt);
  }

  /** The log answered about the send of {@code key} left in doubt. */
  void settled(String key, LogAnswer answer) {
    Pending send = pending.get(key);
    if (send == null || send.phase == Phase.PUBLISHING) {
      return;
    }
    if (answer instanceof NotInLog) {
      // Never written: this attempt takes the claim over (freshly dated) and goes ahead.
      send.phase = Phase.CLAIMING;
      send.claimedAt = settings.clock().instant();
      lookUp(send, true);
      return;
    }
    pending.remove(key);
    if (answer instanceof FoundInLog found) {
      // Written: the original ack again. Not pushed now: members find it by sync, as any message
      // behind a seq jump (docs/protocol.md guarantee 2).
      MessageRecord record = found.record();
      Dedup.Original original = new Dedup.Original(record.seq(), record.sentAt());
      settings.dedup().tell(new Dedup.Remember(conversationId, key, original));
      send.answer(acked(key, record.seq(), record.sentAt()));
    } else {
      send.answer(new Rejected(Failure.UNAVAILABLE, "message log unavailable, try again"));
    }
  }

  private Step assignSeq(Pending send, long reservedUpTo) {
    long block = settings.seqBlockSize();
    if (lastSeq >= reservedUpTo) {
      // The reservation is used up: wait for the next block before handing out a seq.
      return new ReserveThenPublish(lastSeq + block, send.first.idempotencyKey());
    }
    publish(send); // this seq is inside a block that is already durable
    return reservedUpTo - lastSeq < block / 2 ? new ReserveAhead(reservedUpTo + block) : DONE;
  }

  /** The block asked for by {@link ReserveThenPublish} is durable: the send goes to Kafka. */
  void publish(String idempotencyKey) {
    publish(pending.get(idempotencyKey));
  }

  private void publish(Pending send) {
    send.phase = Phase.PUBLISHING;
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
   * Kafka's answer (through the Publisher); acks and deliveries to {@code members} go out in seq
   * order, so an answer waits until every lower seq is answered. Kafka's own answers for one
   * conversation (one partition) come back in order, from the producer's I/O thread; but a failure
   * the Publisher answers itself, on its own thread (publish deadline passed, record never handed
   * to the client), can overtake the answers for lower seqs still at Kafka. So nothing here relies
   * on the order answers arrive in. Returns true when a waiting stop may now complete.
   */
  boolean answered(Publisher.Result result, List<String> members) {
    Pending answered = publishing.get(result.record().seq());
    if (answered != null) {
      answered.result = result;
    }
    while (!publishing.isEmpty() && publishing.firstEntry().getValue().result != null) {
      Pending next = publishing.pollFirstEntry().getValue();
      pending.remove(next.first.idempotencyKey());
      emit(next, members);
    }
    return stopping && publishing.isEmpty();
  }

  private void emit(Pending send, List<String> members) {
    MessageRecord record = send.result.record();
    if (send.result instanceof Publisher.Published) {
      recent.add(record);
      send.answer(acked(record.idempotencyKey(), record.seq(), record.sentAt()));
      settings.fanout().tell(Fanout.Deliver.message(record, members));
    } else {
      // The seq is burnt (a jump, as after a failure): reusing it could reorder the log.
      send.answer(new Rejected(Failure.UNAVAILABLE, "message log unavailable, try again"));
    }
  }

  /**
   * Passivation or hand-off: sends not yet at Kafka are abandoned; true when none is at Kafka
   * either, so the entity may stop now. Otherwise it waits for their answers (the next incarnation,
   * maybe on another node, must not publish higher seqs ahead of them: the log's order is the seq
   * order readers trust, ADR 0006), and new sends are turned away.
   */
  boolean stop() {
    abandonUnpublished();
    stopping = !publishing.isEmpty();
    return !stopping;
  }

  /**
   * On a hand-off, passivation or a restart after a journal failure: sends not yet at Kafka give
   * their claims back and their senders are told to retry, which the next incarnation then takes at
   * once instead of waiting out a claim in doubt. (Sends already at Kafka are answered by the
   * publisher's Remember; a claim being settled is an earlier attempt's, not ours to give back.)
   */
  void abandonUnpublished() {
    Iterator<Pending> sends = pending.values().iterator();
    while (sends.hasNext()) {
      Pending send = sends.next();
      if (send.phase == Phase.CLAIMING) {
        String key = send.first.idempotencyKey();
        settings.dedup().tell(new Dedup.Release(conversationId, key, send.claimedAt));
        send.answer(new Rejected(Failure.UNAVAILABLE, "conversation moving, try again"));
        sends.remove();
      }
    }
  }

  private Acked acked(String idempotencyKey, long seq, Instant sentAt) {
    return new Acked(conversationId, idempotencyKey, seq, sentAt);
  }
}
