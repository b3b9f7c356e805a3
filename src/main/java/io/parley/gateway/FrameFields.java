package io.parley.gateway;

import static io.parley.gateway.FrameRejection.badRequest;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Ids;
import io.parley.gateway.ClientFrame.Receipt;
import io.parley.gateway.ClientFrame.Sync;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The fields of one client frame, each read by protocol.md's rule for it. A field that breaks its
 * rule throws a {@link FrameRejection} naming the field. JSON {@code null} counts as absent, for
 * clients whose serializers write every field.
 */
final class FrameFields {

  /** The canonical 8-4-4-4-12 form only; {@link java.util.UUID#fromString} accepts more. */
  private static final Pattern UUID =
      Pattern.compile(
          "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");

  private final JsonNode frame;

  FrameFields(JsonNode frame) {
    this.frame = frame;
  }

  String type() {
    return requiredString("type");
  }

  String conversationId() {
    String id = requiredString("conversationId");
    if (!Ids.isValid(id)) {
      throw badRequest("conversationId must be " + Ids.RULE);
    }
    return id;
  }

  String idempotencyKey() {
    String key = requiredString("idempotencyKey");
    if (!UUID.matcher(key).matches()) {
      throw badRequest("idempotencyKey must be a UUID");
    }
    return key;
  }

  /** Counted in code points, so an emoji is one character, as a user would count it. */
  String body() {
    String body = requiredString("body");
    int length = body.codePointCount(0, body.length());
    if (length == 0) {
      throw badRequest("body must not be empty");
    }
    if (length > FrameCodec.MAX_BODY_CODE_POINTS) {
      throw new FrameRejection(
          ErrorCode.TOO_LARGE, "body exceeds " + FrameCodec.MAX_BODY_CODE_POINTS + " characters");
    }
    // A lone surrogate (only possible through a \\u escape) cannot be encoded as UTF-8:
    // recipients would get a different text than the one that was acked.
    if (body.codePoints().anyMatch(c -> Character.getType(c) == Character.SURROGATE)) {
      throw badRequest("body is not valid Unicode text");
    }
    return body;
  }

  long afterSeq() {
    return optionalInteger("afterSeq", 0, Long.MAX_VALUE).orElse(Sync.DEFAULT_AFTER_SEQ);
  }

  int limit() {
    return (int) optionalInteger("limit", 1, Sync.MAX_LIMIT).orElse(Sync.DEFAULT_LIMIT);
  }

  long seq() {
    return optionalInteger("seq", 1, Long.MAX_VALUE)
        .orElseThrow(() -> badRequest("missing field: seq"));
  }

  String receiptKind() {
    String kind = requiredString("kind");
    if (!Receipt.KINDS.contains(kind)) {
      throw badRequest("kind must be \"delivered\" or \"read\"");
    }
    return kind;
  }

  private String requiredString(String name) {
    JsonNode value = present(name);
    if (value == null) {
      throw badRequest("missing field: " + name);
    }
    if (!value.isTextual()) {
      throw badRequest(name + " must be a string");
    }
    return value.textValue();
  }

  /** An integral JSON number within [min, max]: 1.5, 1e300, "5" and true are all refused. */
  private OptionalLong optionalInteger(String name, long min, long max) {
    JsonNode value = present(name);
    if (value == null) {
      return OptionalLong.empty();
    }
    if (!value.isIntegralNumber()
        || !value.canConvertToLong()
        || value.longValue() < min
        || value.longValue() > max) {
      throw badRequest(name + " must be an integer " + range(min, max));
    }
    return OptionalLong.of(value.longValue());
  }

  private static String range(long min, long max) {
    return max == Long.MAX_VALUE ? ">= " + min : "from " + min + " to " + max;
  }

  private JsonNode present(String name) {
    JsonNode value = frame.get(name);
    return value == null || value.isNull() ? null : value;
  }
}
