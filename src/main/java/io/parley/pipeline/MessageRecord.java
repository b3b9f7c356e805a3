package io.parley.pipeline;

import io.parley.CborSerializable;
import java.time.Instant;

/**
 * One chat message as it is written to Kafka (JSON value, key = conversation id) and later to
 * history. {@code (conversationId, seq)} identifies it; a redelivered record is the same row.
 */
public record MessageRecord(
    String conversationId,
    long seq,
    String senderId,
    String senderDevice,
    String idempotencyKey,
    String body,
    Instant sentAt)
    implements CborSerializable {

  /** Per message, beyond its strings' UTF-8 bytes: field names, numbers, framing. */
  private static final int OVERHEAD_BYTES = 128;

  /**
   * An upper bound of its size in any of its encodings (CBOR, JSON, a Cassandra row): its strings
   * in UTF-8 plus a fixed overhead. For budgets of remote messages and batches.
   */
  public long approximateBytes() {
    return utf8Length(body)
        + utf8Length(idempotencyKey)
        + utf8Length(senderId)
        + utf8Length(senderDevice)
        + utf8Length(conversationId)
        + OVERHEAD_BYTES;
  }

  private static long utf8Length(String text) {
    if (text == null) {
      return 0;
    }
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      // A surrogate pair is 4 bytes: 2 per half.
      bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }
    return bytes;
  }
}
