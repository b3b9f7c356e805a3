package io.parley.history;

import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.pipeline.MessageRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Messages in Cassandra, partitioned by conversation and bucket ({@code bucket = seq /
 * bucket-size}, ADR 0005): a partition holds at most bucket-size messages, and a page reads one
 * partition, or its neighbour when it crosses a bucket boundary, nothing wider.
 *
 * <p>Writes are idempotent (the primary key is the message's identity), so redelivery from Kafka is
 * harmless. Callers validate their input: {@code limit} 1 to 500, seqs not negative.
 */
public final class MessageStore {

  /** Messages in ascending seq; {@code hasMore} when more exist in the paging direction. */
  public record Page(List<MessageRecord> messages, boolean hasMore) {}

  private static final String COLUMNS =
      "conversation_id, seq, sender_id, sender_device, idempotency_key, body, sent_at";

  private final CassandraSession session;
  private final long bucketSize;
  private final CompletionStage<PreparedStatement> insert;
  private final CompletionStage<PreparedStatement> head;
  private final CompletionStage<PreparedStatement> after;
  private final CompletionStage<PreparedStatement> before;
  private final CompletionStage<PreparedStatement> lastSeq;

  public MessageStore(CassandraSession session, String keyspace, long bucketSize) {
    this.session = session;
    this.bucketSize = bucketSize;
    String messages = keyspace + ".messages";
    insert =
        session.prepare(
            "INSERT INTO "
                + messages
                + " ("
                + COLUMNS
                + ", bucket) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    head =
        session.prepare(
            "UPDATE "
                + keyspace
                + ".conversation_heads USING TIMESTAMP ? SET last_seq = ? WHERE conversation_id ="
                + " ?");
    after =
        session.prepare(
            "SELECT "
                + COLUMNS
                + " FROM "
                + messages
                + " WHERE conversation_id = ? AND bucket = ? AND seq > ? ORDER BY seq ASC LIMIT ?");
    before =
        session.prepare(
            "SELECT "
                + COLUMNS
                + " FROM "
                + messages
                + " WHERE conversation_id = ? AND bucket = ? AND seq < ? ORDER BY seq DESC LIMIT"
                + " ?");
    lastSeq =
        session.prepare(
            "SELECT last_seq FROM " + keyspace + ".conversation_heads WHERE conversation_id = ?");
  }

  /**
   * History's driver session (Pekko Connectors Cassandra's default settings, so the same {@code
   * datastax-java-driver} contact points). Not the journal's: the registry keeps the first caller's
   * initialisation, and the journal's creates its keyspaces.
   */
  public static CassandraSession session(ActorSystem<?> system) {
    return CassandraSessionRegistry.get(system).sessionFor("pekko.connectors.cassandra");
  }

  public long bucketOf(long seq) {
    return seq / bucketSize;
  }

  /**
   * Writes the rows of one partition (one conversation, one bucket: see {@link #bucketOf}) in one
   * unlogged batch: a single mutation for Cassandra, so no coordinator fan-out and no batch log.
   */
  public CompletionStage<Done> writeRows(List<MessageRecord> samePartition) {
    return insert.thenCompose(
        statement -> {
          BatchStatementBuilder batch = BatchStatement.builder(DefaultBatchType.UNLOGGED);
          for (MessageRecord record : samePartition) {
            batch.addStatement(
                statement.bind(
                    record.conversationId(),
                    record.seq(),
                    record.senderId(),
                    record.senderDevice(),
                    record.idempotencyKey(),
                    record.body(),
                    record.sentAt(),
                    bucketOf(record.seq())));
          }
          return session.executeWriteBatch(batch.build());
        });
  }

  /**
   * Raises the conversation's head to {@code seq}; the highest seq wins (it is the write's
   * timestamp). Readers take the head as "every row up to here is written", so callers raise it
   * only once those rows are.
   */
  public CompletionStage<Done> raiseHead(String conversationId, long seq) {
    return head.thenCompose(
        statement -> session.executeWrite(statement.bind(seq, seq, conversationId)));
  }

  /** The highest persisted seq of the conversation, 0 when none. */
  public CompletionStage<Long> lastSeq(String conversationId) {
    return lastSeq
        .thenCompose(statement -> session.selectOne(statement.bind(conversationId)))
        .thenApply(row -> row.map(r -> r.getLong("last_seq")).orElse(0L));
  }

  /** The {@code limit} messages with seq above {@code afterSeq}, ascending. */
  public CompletionStage<Page> after(String conversationId, long afterSeq, int limit) {
    return lastSeq(conversationId)
        .thenCompose(
            last ->
                collectAfter(
                    conversationId,
                    afterSeq,
                    bucketOf(afterSeq + 1),
                    bucketOf(last),
                    limit,
                    new ArrayList<>()));
  }

  private CompletionStage<Page> collectAfter(
      String conversationId,
      long afterSeq,
      long bucket,
      long lastBucket,
      int limit,
      List<MessageRecord> found) {
    if (bucket > lastBucket) {
      return CompletableFuture.completedFuture(new Page(found, false));
    }
    // One more than asked: whether it exists is hasMore.
    int wanted = limit + 1 - found.size();
    return after
        .thenCompose(
            statement ->
                session.selectAll(statement.bind(conversationId, bucket, afterSeq, wanted)))
        .thenCompose(
            rows -> {
              rows.forEach(row -> found.add(record(row)));
              if (found.size() > limit) {
                return CompletableFuture.completedFuture(
                    new Page(List.copyOf(found.subList(0, limit)), true));
              }
              return collectAfter(conversationId, afterSeq, bucket + 1, lastBucket, limit, found);
            });
  }

  /** The {@code limit} messages closest below {@code beforeSeq}, ascending. */
  public CompletionStage<Page> before(String conversationId, long beforeSeq, int limit) {
    return collectBefore(
        conversationId, beforeSeq, bucketOf(beforeSeq - 1), limit, new ArrayList<>());
  }

  private CompletionStage<Page> collectBefore(
      String conversationId,
      long beforeSeq,
      long bucket,
      int limit,
      List<MessageRecord> newestFirst) {
    if (bucket < 0) {
      return CompletableFuture.completedFuture(ascending(newestFirst, false));
    }
    int wanted = limit + 1 - newestFirst.size();
    return before
        .thenCompose(
            statement ->
                session.selectAll(statement.bind(conversationId, bucket, beforeSeq, wanted)))
        .thenCompose(
            rows -> {
              rows.forEach(row -> newestFirst.add(record(row)));
              if (newestFirst.size() > limit) {
                return CompletableFuture.completedFuture(
                    ascending(newestFirst.subList(0, limit), true));
              }
              return collectBefore(conversationId, beforeSeq, bucket - 1, limit, newestFirst);
            });
  }

  private static Page ascending(List<MessageRecord> newestFirst, boolean hasMore) {
    List<MessageRecord> messages = new ArrayList<>(newestFirst);
    Collections.reverse(messages);
    return new Page(messages, hasMore);
  }

  private static MessageRecord record(Row row) {
    return new MessageRecord(
        row.getString("conversation_id"),
        row.getLong("seq"),
        row.getString("sender_id"),
        row.getString("sender_device"),
        row.getString("idempotency_key"),
        row.getString("body"),
        row.getInstant("sent_at"));
  }
}
