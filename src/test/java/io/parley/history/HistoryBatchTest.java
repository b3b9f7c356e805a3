package io.parley.history;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parley.pipeline.MessageRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryBatchTest {

  @Test
  void rowsAreGroupedByPartitionInLogOrderAndHeadsAreEachConversationsHighestSeq() {
    List<MessageRecord> log = new ArrayList<>();
    for (long seq = 8; seq <= 13; seq++) {
      log.add(record("a", seq, "hi"));
      log.add(record("b", seq - 7, "hi"));
    }
    // Buckets of 10 seqs: a's 8-9 and 10-13 are two partitions.
    HistoryBatch batch = HistoryBatch.of(log, seq -> seq / 10, 100, 1_000_000);
    assertEquals(
        List.of(
            List.of("a8", "a9"),
            List.of("b1", "b2", "b3", "b4", "b5", "b6"),
            List.of("a10", "a11", "a12", "a13")),
        names(batch));
    assertEquals(Map.of("a", 13L, "b", 6L), batch.heads());
    assertEquals(12, batch.records());
  }

  @Test
  void aPartitionsRowsAreSplitByCountAndBytes() {
    List<MessageRecord> log = new ArrayList<>();
    for (long seq = 1; seq <= 5; seq++) {
      log.add(record("a", seq, "hi"));
    }
    assertEquals(
        List.of(List.of("a1", "a2"), List.of("a3", "a4"), List.of("a5")),
        names(HistoryBatch.of(log, seq -> 0, 2, 1_000_000)));

    String body = "x".repeat(1_000); // about 1.1 KB a record: two fit in 2,500 bytes
    List<MessageRecord> large =
        List.of(record("a", 1, body), record("a", 2, body), record("a", 3, body));
    assertEquals(
        List.of(List.of("a1", "a2"), List.of("a3")),
        names(HistoryBatch.of(large, seq -> 0, 100, 2_500)));

    List<MessageRecord> huge = List.of(record("a", 1, "x".repeat(10_000)), record("a", 2, "hi"));
    assertEquals(
        List.of(List.of("a1"), List.of("a2")),
        names(HistoryBatch.of(huge, seq -> 0, 100, 2_500)),
        "a record over the byte bound is written alone");
  }

  private static MessageRecord record(String conversation, long seq, String body) {
    return new MessageRecord(conversation, seq, "alice", "phone", "k" + seq, body, Instant.EPOCH);
  }

  private static List<List<String>> names(HistoryBatch batch) {
    return batch.partitionBatches().stream()
        .map(rows -> rows.stream().map(r -> r.conversationId() + r.seq()).toList())
        .toList();
  }
}
