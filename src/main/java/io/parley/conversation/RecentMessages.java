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
 * (ARCHITECTURE.md invariant 4, ADR 0006).
 *
 * <p>Guarantee: every acked message with {@code seq > floor()} is here. The floor rises as old
 * messages are evicted (bounded memory: {@code capacity} messages); after a restart it is the
 * recovered seq, so messages acked by an earlier incarnation are left to Cassandra.
 */
final class RecentMessages {

  private final int capacity;
  private final ArrayDeque<MessageRecord> messages = new ArrayDeque<>();
  private long floor;

  RecentMessages(int capacity, long floor) {
    this.capacity = capacity;
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

  /** Up to {@code limit} messages with {@code afterSeq < seq < beforeSeq}, ascending. */
  List<MessageRecord> between(long afterSeq, long beforeSeq, int limit, Conversation.Keep keep) {
    List<MessageRecord> found = new ArrayList<>(Math.min(limit, messages.size()));
    Iterator<MessageRecord> walk =
        keep == Conversation.Keep.OLDEST ? messages.iterator() : messages.descendingIterator();
    while (walk.hasNext() && found.size() < limit) {
      MessageRecord record = walk.next();
      if (record.seq() > afterSeq && record.seq() < beforeSeq) {
        found.add(record);
      }
    }
    if (keep == Conversation.Keep.NEWEST) {
      Collections.reverse(found);
    }
    return found;
  }
}
