package io.parley.conversation;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * A user's conversations for {@code GET /api/conversations}: the ids come from the {@link
 * ConversationIndex}, members, title and {@code lastSeq} from each conversation itself (the only
 * authority on them), so a client that was offline knows what to {@code sync}.
 */
public final class ConversationDirectory {

  /** One row of the list, as PROTOCOL.md names its fields. */
  public record Summary(
      String conversationId, List<String> members, String title, long lastSeq, long readSeq) {}

  private final ClusterSharding sharding;
  private final ConversationIndex index;
  private final Duration askTimeout;

  public ConversationDirectory(
      ClusterSharding sharding, ConversationIndex index, Duration askTimeout) {
    this.sharding = sharding;
    this.index = index;
    this.askTimeout = askTimeout;
  }

  public CompletionStage<List<Summary>> conversationsOf(String userId) {
    return index
        .list(userId)
        .thenCompose(
            entries -> {
              List<CompletableFuture<Summary>> summaries =
                  entries.stream()
                      .map(entry -> summary(userId, entry.conversationId()).toCompletableFuture())
                      .toList();
              return CompletableFuture.allOf(summaries.toArray(CompletableFuture[]::new))
                  .thenApply(
                      all ->
                          summaries.stream()
                              .map(CompletableFuture::join)
                              .filter(Objects::nonNull)
                              .toList());
            });
  }

  /** Null when the user is no longer a member. */
  private CompletionStage<Summary> summary(String userId, String conversationId) {
    return sharding
        .entityRefFor(Conversation.ENTITY_KEY, conversationId)
        .<Conversation.Reply>ask(replyTo -> new Conversation.GetInfo(userId, replyTo), askTimeout)
        .thenApply(
            reply ->
                reply instanceof Conversation.Info info
                    ? new Summary(
                        info.conversationId(),
                        info.members(),
                        info.title(),
                        info.lastSeq(),
                        info.readSeq())
                    : null);
  }
}
