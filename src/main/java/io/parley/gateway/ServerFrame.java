package io.parley.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.time.Instant;
import java.util.List;

/**
 * A frame the server sends over the WebSocket (protocol.md "Server to client"). Encoded by {@link
 * FrameCodec}: {@code type} first, then the record components in declaration order, which is the
 * order of protocol.md's examples.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
public sealed interface ServerFrame {

  @JsonTypeName("welcome")
  record Welcome(String userId, String deviceId, String node, int heartbeatSeconds)
      implements ServerFrame {}

  /** The message is durable: it will be in history whatever fails next. */
  @JsonTypeName("ack")
  record Ack(String conversationId, String idempotencyKey, long seq, Instant sentAt)
      implements ServerFrame {}

  @JsonTypeName("message")
  record ChatMessage(
      String conversationId,
      long seq,
      String senderId,
      String body,
      Instant sentAt,
      String idempotencyKey)
      implements ServerFrame {}

  /** Messages in ascending {@code seq}; each keeps its {@code "type":"message"}. */
  @JsonTypeName("history")
  record History(String conversationId, List<ChatMessage> messages, boolean hasMore)
      implements ServerFrame {
    public History {
      messages = List.copyOf(messages);
    }
  }

  /** {@code lastSeen} is null, and omitted, while the user is online. */
  @JsonTypeName("presence")
  record Presence(
      String userId, String status, @JsonInclude(JsonInclude.Include.NON_NULL) Instant lastSeen)
      implements ServerFrame {}

  @JsonTypeName("typing")
  record TypingNotice(String conversationId, String userId) implements ServerFrame {}

  @JsonTypeName("receipt")
  record ReceiptNotice(String conversationId, String userId, long seq, String kind)
      implements ServerFrame {}

  /**
   * {@code ref}: the idempotencyKey or frame type that failed; {@code retryAfterMs}: with {@code
   * rate_limited}, when a frame of that kind would be taken. Each is null, and omitted, if none.
   */
  @JsonTypeName("error")
  record Error(
      ErrorCode code,
      String message,
      @JsonInclude(JsonInclude.Include.NON_NULL) String ref,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long retryAfterMs)
      implements ServerFrame {

    public Error(ErrorCode code, String message, String ref) {
      this(code, message, ref, null);
    }
  }

  /** Sent before a graceful shutdown; the client reconnects to any node and calls sync. */
  @JsonTypeName("reconnect")
  record Reconnect(String reason) implements ServerFrame {}

  @JsonTypeName("pong")
  record Pong() implements ServerFrame {}
}
