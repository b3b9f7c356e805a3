package io.parley.history;

import com.typesafe.config.Config;
import io.parley.conversation.Conversation;
import io.parley.pipeline.MessageRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.Patterns;

/**
 * Pages of a conversation's history for {@code sync} and {@code GET …/messages}: the conversation's
 * in-memory recent messages merged with Cassandra (ADR 0006).
 *
 * <p>Guarantees: only members read (the conversation checks); a page has no hole (it never skips a
 * message that exists above its first seq); a {@code sync} from a seq the conversation still holds
 * in memory sees every acked message, also those the persister has not written yet
 * (read-your-writes), and needs no Cassandra read at all.
 */
public final class HistoryService {

  /** A page, or the conversation's refusal (not found, not a member). */
  public sealed interface Answer {
    record Found(List<MessageRecord> messages, boolean hasMore) implements Answer {}

    record Refused(Conversation.Rejected rejected) implements Answer {}
  }

  private static final Duration POLL = Duration.ofMillis(100);

  private final ActorSystem<?> system;
  private final MessageStore store;
  private final Duration askTimeout;
  private final Duration persistWait;

  public HistoryService(
      ActorSystem<?> system, MessageStore store, Duration askTimeout, Duration persistWait) {
    this.system = system;
    this.store = store;
    this.askTimeout = askTimeout;
    this.persistWait = persistWait;
  }

  /** Asks within {@code parley.gateway.ask-timeout}, waits {@code parley.history.persist-wait}. */
  public static HistoryService fromConfig(ActorSystem<?> system, MessageStore store) {
    Config config = system.settings().config();
    return new HistoryService(
        system,
        store,
        config.getDuration("parley.gateway.ask-timeout"),
        config.getDuration("parley.history.persist-wait"));
  }

  /** Up to {@code limit} messages with seq above {@code afterSeq}, ascending. */
  public CompletionStage<Answer> after(
      String requesterId, String conversationId, long afterSeq, int limit) {
    return recent(
            requesterId,
            conversationId,
            afterSeq,
            Long.MAX_VALUE,
            limit + 1,
            Conversation.Keep.OLDEST)
        .thenCompose(
            reply -> {
              if (reply instanceof Conversation.Rejected rejected) {
                return done(new Answer.Refused(rejected));
              }
              Conversation.Recent recent = (Conversation.Recent) reply;
              if (afterSeq >= recent.floor()) {
                return done(page(recent.messages(), limit, recent.cut()));
              }
              return withStore(
                  conversationId,
                  recent,
                  () -> store.after(conversationId, afterSeq, limit),
                  limit,
                  Conversation.Keep.OLDEST);
            });
  }

  /** Up to {@code limit} messages just below {@code beforeSeq}, ascending. */
  public CompletionStage<Answer> before(
      String requesterId, String conversationId, long beforeSeq, int limit) {
    return recent(requesterId, conversationId, 0, beforeSeq, limit, Conversation.Keep.NEWEST)
        .thenCompose(
            reply -> {
              if (reply instanceof Conversation.Rejected rejected) {
                return done(new Answer.Refused(rejected));
              }
              Conversation.Recent recent = (Conversation.Recent) reply;
              // A cut range is the newest end below beforeSeq: a whole page, if a short one.
              boolean memoryIsEnough = recent.messages().size() == limit || recent.cut();
              if (memoryIsEnough) {
                return done(
                    new Answer.Found(
                        recent.messages(), recent.cut() || recent.messages().get(0).seq() > 1));
              }
              return withStore(
                  conversationId,
                  recent,
                  () -> store.before(conversationId, beforeSeq, limit),
                  limit,
                  Conversation.Keep.NEWEST);
            });
  }

  /**
   * Cassandra's page, merged with the in-memory messages of the same range. Merging is safe only
   * once Cassandra holds everything up to the conversation's memory floor, else the page could skip
   * messages the persister has not written yet: wait for that, bounded.
   */
  private CompletionStage<Answer> withStore(
      String conversationId,
      Conversation.Recent recent,
      Supplier<CompletionStage<MessageStore.Page>> read,
      int limit,
      Conversation.Keep keep) {
    if (recent.messages().isEmpty()) {
      return read.get().thenApply(stored -> new Answer.Found(stored.messages(), stored.hasMore()));
    }
    return persistedUpTo(conversationId, recent.floor())
        .thenCompose(
            lastSeq -> {
              if (lastSeq >= recent.floor()) {
                return read.get().thenApply(stored -> merge(stored, recent, limit, keep));
              }
              // Forward, Cassandra's part is still the start of the answer: the client asks again.
              // Backward, it could skip what lies between Cassandra and memory: retryable refusal.
              return keep == Conversation.Keep.OLDEST
                  ? read.get().thenApply(stored -> new Answer.Found(stored.messages(), true))
                  : CompletableFuture.failedFuture(
                      new IllegalStateException("history is catching up"));
            });
  }

  private CompletionStage<Conversation.Reply> recent(
      String requesterId,
      String conversationId,
      long afterSeq,
      long beforeSeq,
      int limit,
      Conversation.Keep keep) {
    return ClusterSharding.get(system)
        .entityRefFor(Conversation.ENTITY_KEY, conversationId)
        .ask(
            replyTo ->
                new Conversation.GetRecent(requesterId, afterSeq, beforeSeq, limit, keep, replyTo),
            askTimeout);
  }

  /** The conversation's last persisted seq once it reaches {@code floor}, or at the deadline. */
  private CompletionStage<Long> persistedUpTo(String conversationId, long floor) {
    Instant deadline = Instant.now().plus(persistWait);
    return pollLastSeq(conversationId, floor, deadline);
  }

  private CompletionStage<Long> pollLastSeq(String conversationId, long floor, Instant deadline) {
    return store
        .lastSeq(conversationId)
        .thenCompose(
            lastSeq -> {
              if (lastSeq >= floor || Instant.now().isAfter(deadline)) {
                return done(lastSeq);
              }
              return Patterns.after(
                  POLL,
                  system.classicSystem().scheduler(),
                  system.executionContext(),
                  () -> pollLastSeq(conversationId, floor, deadline));
            });
  }

  /** Cassandra's page and the in-memory messages, by seq; {@code keep} says which end to keep. */
  private static Answer merge(
      MessageStore.Page stored, Conversation.Recent recent, int limit, Conversation.Keep keep) {
    TreeMap<Long, MessageRecord> bySeq = new TreeMap<>();
    stored.messages().forEach(record -> bySeq.put(record.seq(), record));
    recent.messages().forEach(record -> bySeq.put(record.seq(), record));
    List<MessageRecord> all = new ArrayList<>(bySeq.values());
    if (all.size() <= limit) {
      // A cut range (forward only) leaves messages above this page in memory.
      return new Answer.Found(all, stored.hasMore() || recent.cut());
    }
    return keep == Conversation.Keep.OLDEST
        ? new Answer.Found(List.copyOf(all.subList(0, limit)), true)
        : new Answer.Found(List.copyOf(all.subList(all.size() - limit, all.size())), true);
  }

  private static Answer page(List<MessageRecord> messages, int limit, boolean moreExist) {
    return messages.size() > limit
        ? new Answer.Found(List.copyOf(messages.subList(0, limit)), true)
        : new Answer.Found(messages, moreExist);
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
