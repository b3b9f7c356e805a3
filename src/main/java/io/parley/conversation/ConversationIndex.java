package io.parley.conversation;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The conversations of each user ({@code conversations_by_user}), behind {@code GET
 * /api/conversations}: one partition per user, clustered by conversation id, so a page of the list
 * is a single-partition read. A conversation writes its members' rows before the event that makes
 * them members (ADR 0009); writing one twice is harmless.
 */
public final class ConversationIndex implements Conversation.MemberIndex {

  /** Rows of one membership change written at once: a large group is not one burst. */
  private static final int WRITES_IN_FLIGHT = 16;

  /** One of a user's conversations. */
  public record Entry(String conversationId, String title) {}

  private final CassandraSession session;
  private final ClassicActorSystemProvider system;
  private final Clock clock;
  private final CompletionStage<PreparedStatement> insert;
  private final CompletionStage<PreparedStatement> selectAll;
  private final CompletionStage<PreparedStatement> selectPage;

  public ConversationIndex(
      CassandraSession session, String keyspace, ClassicActorSystemProvider system, Clock clock) {
    this.session = session;
    this.system = system;
    this.clock = clock;
    String table = keyspace + ".conversations_by_user";
    insert =
        session.prepare(
            "INSERT INTO "
                + table
                + " (user_id, conversation_id, title, joined_at) VALUES (?, ?, ?, ?)");
    String select = "SELECT conversation_id, title FROM " + table + " WHERE user_id = ?";
    selectAll = session.prepare(select);
    selectPage = session.prepare(select + " AND conversation_id > ? LIMIT ?");
  }

  @Override
  public CompletionStage<Done> add(List<String> userIds, String conversationId, String title) {
    return insert.thenCompose(
        statement ->
            Source.from(userIds)
                .mapAsyncUnordered(
                    WRITES_IN_FLIGHT,
                    userId ->
                        session.executeWrite(
                            statement.bind(userId, conversationId, title, clock.instant())))
                .runWith(Sink.ignore(), system));
  }

  /** All of the user's conversations, in conversation id order. */
  public CompletionStage<List<Entry>> list(String userId) {
    return selectAll
        .thenCompose(statement -> session.selectAll(statement.bind(userId)))
        .thenApply(ConversationIndex::entries);
  }

  /** At most {@code limit} of the user's conversations whose ids sort after {@code after}. */
  public CompletionStage<List<Entry>> page(String userId, String after, int limit) {
    return selectPage
        .thenCompose(statement -> session.selectAll(statement.bind(userId, after, limit)))
        .thenApply(ConversationIndex::entries);
  }

  private static List<Entry> entries(List<Row> rows) {
    return rows.stream()
        .map(row -> new Entry(row.getString("conversation_id"), row.getString("title")))
        .toList();
  }
}
