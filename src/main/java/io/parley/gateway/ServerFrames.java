package io.parley.gateway;

import io.parley.conversation.Conversation;
import io.parley.history.HistoryService;
import io.parley.pipeline.MessageRecord;
import io.parley.routing.NodeRouter;
import java.time.Duration;

/** Turns domain outcomes into frames; the one place where a failure gets its error code. */
final class ServerFrames {
  private ServerFrames() {}

  static ServerFrame.ChatMessage message(MessageRecord record) {
    return new ServerFrame.ChatMessage(
        record.conversationId(),
        record.seq(),
        record.senderId(),
        record.body(),
        record.sentAt(),
        record.idempotencyKey());
  }

  static ServerFrame.ReceiptNotice receipt(NodeRouter.ReceiptPush receipt) {
    return new ServerFrame.ReceiptNotice(
        receipt.conversationId(), receipt.userId(), receipt.seq(), receipt.kind());
  }

  static ServerFrame.Presence presence(NodeRouter.PresencePush presence) {
    return new ServerFrame.Presence(
        presence.userId(), presence.online() ? "online" : "offline", presence.lastSeen());
  }

  static ServerFrame.History history(String conversationId, HistoryService.Answer.Found found) {
    return new ServerFrame.History(
        conversationId,
        found.messages().stream().map(ServerFrames::message).toList(),
        found.hasMore());
  }

  static ServerFrame.Error error(ErrorCode code, String message, String ref) {
    return new ServerFrame.Error(code, message, ref);
  }

  /** {@code rate_limited}, with when to try again: whole milliseconds, at least 1. */
  static ServerFrame.Error rateLimited(String ref, Duration retryAfter) {
    long millis = Math.max(1, (retryAfter.toNanos() + 999_999) / 1_000_000);
    return new ServerFrame.Error(ErrorCode.RATE_LIMITED, "slow down", ref, millis);
  }

  static ServerFrame.Error rejected(Conversation.Rejected rejected, String ref) {
    return new ServerFrame.Error(codeOf(rejected.failure()), rejected.message(), ref);
  }

  static ErrorCode codeOf(Conversation.Failure failure) {
    return switch (failure) {
      case NOT_FOUND -> ErrorCode.NOT_FOUND;
      case FORBIDDEN -> ErrorCode.FORBIDDEN;
      case INVALID, CONFLICT -> ErrorCode.BAD_REQUEST;
      case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
    };
  }

  /** protocol.md: {@code ref} echoes the idempotencyKey where there is one, else the frame type. */
  static String refOf(ClientFrame frame) {
    return frame instanceof ClientFrame.Send send ? send.idempotencyKey() : frame.type();
  }
}
