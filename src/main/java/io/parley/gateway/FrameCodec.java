package io.parley.gateway;

import static io.parley.gateway.FrameRejection.badRequest;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parley.Json;
import io.parley.gateway.ClientFrame.Close;
import io.parley.gateway.ClientFrame.Open;
import io.parley.gateway.ClientFrame.Ping;
import io.parley.gateway.ClientFrame.Receipt;
import io.parley.gateway.ClientFrame.Send;
import io.parley.gateway.ClientFrame.Sync;
import io.parley.gateway.ClientFrame.Typing;
import io.parley.gateway.DecodeResult.Decoded;
import io.parley.gateway.DecodeResult.Invalid;
import java.time.Instant;
import java.util.Map;
import java.util.TimeZone;
import java.util.function.Function;

/**
 * Turns WebSocket text into {@link ClientFrame}s and {@link ServerFrame}s into text, by
 * protocol.md. Decoding is strict about the fields each frame type defines, ignores fields it does
 * not know (clients may be newer than the server) and never throws: any input, however hostile,
 * becomes {@link Decoded} or {@link Invalid}. The 64 KiB frame limit is not checked here; the
 * WebSocket stage closes the connection for that. Thread-safe.
 */
public final class FrameCodec {

  public static final int MAX_BODY_CODE_POINTS = 4000;

  /** Frames are flat; the slack is for nested fields that later protocol versions may add. */
  private static final int MAX_NESTING_DEPTH = 32;

  /** No string in a frame within the 64 KiB limit is longer, so this never rejects one. */
  private static final int MAX_STRING_LENGTH = 64 * 1024;

  /** How much of a client's text an error echoes back. */
  private static final int MAX_ECHO_CODE_POINTS = 64;

  private static final Map<String, Function<FrameFields, ClientFrame>> READERS =
      Map.of(
          Send.TYPE, f -> new Send(f.conversationId(), f.idempotencyKey(), f.body()),
          Sync.TYPE, f -> new Sync(f.conversationId(), f.afterSeq(), f.limit()),
          Open.TYPE, f -> new Open(f.conversationId()),
          Close.TYPE, f -> new Close(f.conversationId()),
          Typing.TYPE, f -> new Typing(f.conversationId()),
          Receipt.TYPE, f -> new Receipt(f.conversationId(), f.seq(), f.receiptKind()),
          Ping.TYPE, f -> new Ping());

  /** Shared by every instance (ObjectMapper is thread-safe), so a codec per session is cheap. */
  private static final ObjectMapper MAPPER = codecMapper();

  public DecodeResult decode(String text) {
    JsonNode json;
    try {
      json = parseObject(text);
    } catch (FrameRejection rejection) {
      return new Invalid(rejection.toError(null));
    }
    try {
      return new Decoded(read(json));
    } catch (FrameRejection rejection) {
      return new Invalid(rejection.toError(errorRef(json)));
    }
  }

  public String encode(ServerFrame frame) {
    try {
      return MAPPER.writeValueAsString(frame);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + frame.getClass().getSimpleName(), e);
    }
  }

  private static JsonNode parseObject(String text) {
    if (text == null) {
      throw badRequest("frame is not valid JSON");
    }
    JsonNode json;
    try {
      json = MAPPER.readTree(text);
    } catch (StreamConstraintsException e) {
      throw badRequest("frame is nested too deeply or holds too long a string");
    } catch (JacksonException | RuntimeException e) {
      // RuntimeException too: a parser bug on hostile input must cost one error frame, not the
      // connection.
      throw badRequest("frame is not valid JSON");
    }
    if (!json.isObject()) {
      throw badRequest("frame must be a JSON object");
    }
    return json;
  }

  private static ClientFrame read(JsonNode json) {
    FrameFields fields = new FrameFields(json);
    String type = fields.type();
    Function<FrameFields, ClientFrame> reader = READERS.get(type);
    if (reader == null) {
      throw badRequest("unknown frame type: " + abbreviate(type));
    }
    return reader.apply(fields);
  }

  /** protocol.md: ref echoes the idempotencyKey, or else the offending frame's type. */
  private static String errorRef(JsonNode json) {
    JsonNode key = json.get("idempotencyKey");
    if (key != null && key.isTextual()) {
      return abbreviate(key.textValue());
    }
    JsonNode type = json.get("type");
    boolean knownType = type != null && type.isTextual() && READERS.containsKey(type.textValue());
    return knownType ? type.textValue() : null;
  }

  private static String abbreviate(String text) {
    if (text.codePointCount(0, text.length()) <= MAX_ECHO_CODE_POINTS) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, MAX_ECHO_CODE_POINTS)) + "…";
  }

  private static ObjectMapper codecMapper() {
    ObjectMapper mapper = Json.mapper().copy();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxStringLength(MAX_STRING_LENGTH)
                .build());
    // Parsers disagree on which duplicate wins; refusing them leaves nothing to disagree on.
    mapper.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
    mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    // Always milliseconds, always UTC: "2026-11-28T10:15:30.123Z" (ISO_INSTANT drops zeros).
    mapper
        .configOverride(Instant.class)
        .setFormat(
            JsonFormat.Value.forPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX")
                .withTimeZone(TimeZone.getTimeZone("UTC")));
    return mapper;
  }
}
