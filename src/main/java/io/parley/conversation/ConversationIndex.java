package io.parley.conversation;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/**
 * The conversations of each user ({@code conversations_by_user}), behind {@code GET
 * /api/conversations}: one partition per user, so the list is a single-partition read. Rows are
 * written by the {@link MembershipIndexer} when a conversation gains a member; writing one twice is
 * harmless.
 */
public final class ConversationIndex {

  /** One of a user's conversations. */
  public record Entry(String conversationId, String title) {}

  private final CassandraSession session;
  private final Clock clock;
  private final CompletionStage<PreparedStatement> insert;
  private final CompletionStage<PreparedStatement> select;

  public ConversationIndex(CassandraSession session, String keyspace, Clock clock) {
    this.session = session;
    this.clock = clock;
    String table = keyspace + ".conversations_by_user";
    insert =
        session.prepare(
            "INSERT INTO "
                + table
                + " (user_id, conversation_id, title, joined_at) VALUES (?, ?, ?, ?)");
    select = session.prepare("SELECT conversation_id, title FROM " + table + " WHERE user_id = ?");
  }

  public CompletionStage<Done> add(String userId, String conversationId, String title) {
    return insert.thenCompose(
        statement ->
            session.executeWrite(statement.bind(userId, conversationId, title, clock.instant())));
  }

  public CompletionStage<List<Entry>> list(String userId) {
    return select
        .thenCompose(statement -> session.selectAll(statement.bind(userId)))
        .thenApply(
            rows ->
                rows.stream()
                    .map(row -> new Entry(row.getString("conversation_id"), row.getString("title")))
                    .toList());
  }
}
