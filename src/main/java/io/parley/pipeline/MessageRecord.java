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
    implements CborSerializable {}
