package io.parley.conversation;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A user's conversations for {@code GET /api/conversations}: the ids come from the {@link
 * ConversationIndex}, members, title, {@code lastSeq} and {@code readSeq} from each conversation
 * itself (the only authority on them), so a client that was offline knows what to {@code sync}.
 *
 * <p>Asking wakes each conversation (a journal recovery when it was passivated), so at most {@code
 * parallelism} are asked at once, and clients with many conversations ask a page at a time.
 */
public final class ConversationDirectory {

  /** One row of the list, as protocol.md names its fields. */
  public record Summary(
      String conversationId, List<String> members, String title, long lastSeq, long readSeq) {}

  /**
   * Conversations in id order; {@code next} is the {@code after} of the next page, empty on the
   * last. A page may hold fewer than asked: rows the user is not a member of are skipped.
   */
  public record Page(List<Summary> conversations, Optional<String> next) {}

  private final ClusterSharding sharding;
  private final ConversationIndex index;
  private final Duration askTimeout;
  private final int parallelism;
  private final ClassicActorSystemProvider system;

  public ConversationDirectory(
      ClusterSharding sharding,
      ConversationIndex index,
      Duration askTimeout,
      int parallelism,
      ClassicActorSystemProvider system) {
    this.sharding = sharding;
    this.index = index;
    this.askTimeout = askTimeout;
    this.parallelism = parallelism;
    this.system = system;
  }

  /** All of them: the call of protocol.md. */
  public CompletionStage<Page> conversationsOf(String userId) {
    return index
        .list(userId)
        .thenCompose(entries -> summaries(userId, entries))
        .thenApply(summaries -> new Page(summaries, Optional.empty()));
  }

  /** At most {@code limit}, after the conversation id {@code after} ("" for the first page). */
  public CompletionStage<Page> conversationsOf(String userId, String after, int limit) {
    return index
        .page(userId, after, limit + 1)
        .thenCompose(
            entries -> {
              List<ConversationIndex.Entry> page =
                  entries.subList(0, Math.min(limit, entries.size()));
              Optional<String> next =
                  entries.size() > limit
                      ? Optional.of(page.get(page.size() - 1).conversationId())
                      : Optional.empty();
              return summaries(userId, page).thenApply(summaries -> new Page(summaries, next));
            });
  }

  private CompletionStage<List<Summary>> summaries(
      String userId, List<ConversationIndex.Entry> entries) {
    return Source.from(entries)
        .mapAsync(parallelism, entry -> summary(userId, entry.conversationId()))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .runWith(Sink.seq(), system);
  }

  /** Empty when the user is not a member: left, or the row of a membership never saved. */
  private CompletionStage<Optional<Summary>> summary(String userId, String conversationId) {
    return sharding
        .entityRefFor(Conversation.ENTITY_KEY, conversationId)
        .<Conversation.Reply>ask(replyTo -> new Conversation.GetInfo(userId, replyTo), askTimeout)
        .thenApply(
            reply ->
                reply instanceof Conversation.Info info
                    ? Optional.of(
                        new Summary(
                            info.conversationId(),
                            info.members(),
                            info.title(),
                            info.lastSeq(),
                            info.readSeq()))
                    : Optional.empty());
  }
}
