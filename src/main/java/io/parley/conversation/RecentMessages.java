package io.parley.conversation;

import io.parley.pipeline.MessageRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The newest acked messages of one conversation, kept in the entity's memory so that a {@code sync}
 * right after an {@code ack} finds the message although Cassandra is written later, from Kafka
 * (architecture.md invariant 4, ADR 0006).
 *
 * <p>Guarantee: every acked message with {@code seq > floor()} is here. The floor rises as old
 * messages are evicted (bounded memory: {@code capacity} messages); after a restart it is the
 * recovered seq, so messages acked by an earlier incarnation are left to Cassandra.
 *
 * <p>A range is also bounded in bytes: it travels to the asking node in one remote message, and
 * Artery drops a message larger than its frame (256 KiB by default), which 256 messages of a few KB
 * each are. The chat checker found that: a page of long messages read through another node was
 * refused until the client gave up.
 */
final class RecentMessages {

  /** Messages in seq order; {@code cut} when more of the range exist past the byte budget. */
  record Range(List<MessageRecord> messages, boolean cut) {}

  private final int capacity;
  private final long maxRangeBytes;
  private final ArrayDeque<MessageRecord> messages = new ArrayDeque<>();
  private long floor;

  RecentMessages(int capacity, long maxRangeBytes, long floor) {
    this.capacity = capacity;
    this.maxRangeBytes = maxRangeBytes;
    this.floor = floor;
  }

  /** Acked messages arrive in seq order (the entity emits them so). */
  void add(MessageRecord record) {
    messages.addLast(record);
    if (messages.size() > capacity) {
      floor = messages.removeFirst().seq();
    }
  }

  long floor() {
    return floor;
  }

  /** The last acked seq this incarnation knows of (the floor when nothing was acked since). */
  long lastAcked() {
    return messages.isEmpty() ? floor : messages.getLast().seq();
  }

  /**
   * Up to {@code limit} messages with {@code afterSeq < seq < beforeSeq}, ascending, from the
   * {@code keep} end, and no more bytes than the budget (but always one message, if any).
   */
  Range between(long afterSeq, long beforeSeq, int limit, Conversation.Keep keep) {
    List<MessageRecord> found = new ArrayList<>(Math.min(limit, messages.size()));
    Iterator<MessageRecord> walk =
        keep == Conversation.Keep.OLDEST ? messages.iterator() : messages.descendingIterator();
    long bytes = 0;
    boolean cut = false;
    while (walk.hasNext() && found.size() < limit) {
      MessageRecord record = walk.next();
      if (record.seq() > afterSeq && record.seq() < beforeSeq) {
        bytes += record.approximateBytes();
        if (bytes > maxRangeBytes && !found.isEmpty()) {
          cut = true;
          break;
        }
        found.add(record);
      }
    }
    if (keep == Conversation.Keep.NEWEST) {
      Collections.reverse(found);
    }
    return new Range(found, cut);
  }
}
