package io.parley.history;

import io.parley.pipeline.MessageRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/**
 * One persister step's records arranged for Cassandra: the rows of each partition (conversation and
 * bucket) in unlogged batches of bounded rows and bytes, and each conversation's highest seq, for
 * its head, raised once the rows are written.
 */
record HistoryBatch(List<List<MessageRecord>> partitionBatches, Map<String, Long> heads) {

  private record Partition(String conversationId, long bucket) {}

  /** The batch being filled for one partition. */
  private static final class Filling {
    final List<MessageRecord> rows = new ArrayList<>();
    long bytes;
  }

  /** Records in log order; a record larger than {@code maxBytes} gets a batch of its own. */
  static HistoryBatch of(
      List<MessageRecord> records, LongUnaryOperator bucketOf, int maxRows, long maxBytes) {
    Map<Partition, Filling> filling = new LinkedHashMap<>();
    List<List<MessageRecord>> full = new ArrayList<>();
    Map<String, Long> heads = new LinkedHashMap<>();
    for (MessageRecord record : records) {
      Partition partition =
          new Partition(record.conversationId(), bucketOf.applyAsLong(record.seq()));
      Filling batch = filling.computeIfAbsent(partition, p -> new Filling());
      long bytes = record.approximateBytes();
      if (!batch.rows.isEmpty()
          && (batch.rows.size() >= maxRows || batch.bytes + bytes > maxBytes)) {
        full.add(List.copyOf(batch.rows));
        batch = new Filling();
        filling.put(partition, batch);
      }
      batch.rows.add(record);
      batch.bytes += bytes;
      heads.merge(record.conversationId(), record.seq(), Math::max);
    }
    filling.values().forEach(batch -> full.add(List.copyOf(batch.rows)));
    return new HistoryBatch(List.copyOf(full), Map.copyOf(heads));
  }

  int records() {
    return partitionBatches.stream().mapToInt(List::size).sum();
  }
}
