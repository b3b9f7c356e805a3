package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.parley.gateway.ClientFrame.Close;
import io.parley.gateway.ClientFrame.Open;
import io.parley.gateway.ClientFrame.Ping;
import io.parley.gateway.ClientFrame.Receipt;
import io.parley.gateway.ClientFrame.Send;
import io.parley.gateway.ClientFrame.Sync;
import io.parley.gateway.ClientFrame.Typing;
import io.parley.gateway.DecodeResult.Decoded;
import io.parley.gateway.DecodeResult.Invalid;
import io.parley.gateway.ServerFrame.Ack;
import io.parley.gateway.ServerFrame.ChatMessage;
import io.parley.gateway.ServerFrame.History;
import io.parley.gateway.ServerFrame.Pong;
import io.parley.gateway.ServerFrame.Presence;
import io.parley.gateway.ServerFrame.ReceiptNotice;
import io.parley.gateway.ServerFrame.Reconnect;
import io.parley.gateway.ServerFrame.TypingNotice;
import io.parley.gateway.ServerFrame.Welcome;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCodecTest {

  private static final String KEY = "5b0e2c1a-8f3d-4e6a-9b7c-1d2e3f4a5b6c";
  private static final String ID_RULE =
      "conversationId must be 1 to 64 characters of A-Z a-z 0-9 _ -";
  private static final String LIMITS = "frame is nested too deeply or holds too long a string";

  private final FrameCodec codec = new FrameCodec();

  /** Frames are written with single quotes to keep them readable here. */
  private static String json(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  private void assertDecoded(ClientFrame expected, String singleQuoted) {
    assertEquals(new Decoded(expected), codec.decode(json(singleQuoted)));
  }

  private void assertRaw(ErrorCode code, String message, String ref, String text) {
    assertEquals(new Invalid(new ServerFrame.Error(code, message, ref)), codec.decode(text));
  }

  private void assertBadRequest(String message, String ref, String singleQuoted) {
    assertRaw(ErrorCode.BAD_REQUEST, message, ref, json(singleQuoted));
  }

  private static String sendWithBody(String body) {
    return json("{'type':'send','conversationId':'c1','idempotencyKey':'" + KEY + "','body':'")
        + body
        + "\"}";
  }

  @Nested
  class ValidFrames {

    @Test
    void send() {
      assertDecoded(
          new Send("c1", KEY, "hi"),
          "{'type':'send','conversationId':'c1','idempotencyKey':'" + KEY + "','body':'hi'}");
    }

    @Test
    void sendWithAnUppercaseKey() {
      String key = KEY.toUpperCase();
      assertDecoded(
          new Send("c1", key, "hi"),
          "{'type':'send','conversationId':'c1','idempotencyKey':'" + key + "','body':'hi'}");
    }

    @Test
    void sync() {
      assertDecoded(
          new Sync("c1", 41, 50), "{'type':'sync','conversationId':'c1','afterSeq':41,'limit':50}");
    }

    @Test
    void syncDefaults() {
      assertDecoded(new Sync("c1", 0, 100), "{'type':'sync','conversationId':'c1'}");
      assertDecoded(
          new Sync("c1", 0, 100),
          "{'type':'sync','conversationId':'c1','afterSeq':null,'limit':null}");
    }

    @Test
    void syncLimitBounds() {
      assertDecoded(new Sync("c1", 0, 1), "{'type':'sync','conversationId':'c1','limit':1}");
      assertDecoded(new Sync("c1", 0, 500), "{'type':'sync','conversationId':'c1','limit':500}");
    }

    @Test
    void openCloseTyping() {
      assertDecoded(new Open("c1"), "{'type':'open','conversationId':'c1'}");
      assertDecoded(new Close("c1"), "{'type':'close','conversationId':'c1'}");
      assertDecoded(new Typing("c1"), "{'type':'typing','conversationId':'c1'}");
    }

    @Test
    void receipt() {
      assertDecoded(
          new Receipt("c1", 42, "read"),
          "{'type':'receipt','conversationId':'c1','seq':42,'kind':'read'}");
      assertDecoded(
          new Receipt("c1", 1, "delivered"),
          "{'type':'receipt','conversationId':'c1','seq':1,'kind':'delivered'}");
    }

    @Test
    void ping() {
      assertDecoded(new Ping(), "{'type':'ping'}");
    }

    @Test
    void unknownFieldsAreIgnored() {
      assertDecoded(new Ping(), "{'type':'ping','since':'v2','extra':{'nested':[1,2,{'a':null}]}}");
      assertDecoded(
          new Open("c1"), "{'priority':'high','type':'open','conversationId':'c1','seq':'x'}");
    }

    @Test
    void idsAtTheEdgesOfTheRule() {
      String longest = "a".repeat(64);
      assertDecoded(new Open(longest), "{'type':'open','conversationId':'" + longest + "'}");
      assertDecoded(new Open("A-z_0"), "{'type':'open','conversationId':'A-z_0'}");
    }

    @Test
    void bodyOfExactlyTheMaximumLength() {
      String body = "x".repeat(FrameCodec.MAX_BODY_CODE_POINTS);
      assertEquals(new Decoded(new Send("c1", KEY, body)), codec.decode(sendWithBody(body)));
    }

    @Test
    void bodyLengthCountsCodePointsNotUtf16Units() {
      String body = "😀".repeat(FrameCodec.MAX_BODY_CODE_POINTS);
      assertEquals(new Decoded(new Send("c1", KEY, body)), codec.decode(sendWithBody(body)));
    }

    @Test
    void bodyWithEscapedSurrogatePair() {
      assertEquals(
          new Decoded(new Send("c1", KEY, "😀")), codec.decode(sendWithBody("\\ud83d\\ude00")));
    }
  }

  @Nested
  class MalformedEnvelopes {

    @ParameterizedTest
    @ValueSource(
        strings = {"not json", "{", "{'type':'ping'", "{'type':'ping'} trailing", "{'type'}"})
    void notJson(String text) {
      assertBadRequest("frame is not valid JSON", null, text);
    }

    @Test
    void nullText() {
      assertRaw(ErrorCode.BAD_REQUEST, "frame is not valid JSON", null, null);
    }

    @Test
    void duplicateFields() {
      assertBadRequest("frame is not valid JSON", null, "{'type':'ping','type':'send'}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "[]", "[{'type':'ping'}]", "'ping'", "42", "true", "null"})
    void notAnObject(String text) {
      assertBadRequest("frame must be a JSON object", null, text);
    }

    @Test
    void missingType() {
      assertBadRequest("missing field: type", null, "{}");
      assertBadRequest("missing field: type", null, "{'type':null,'conversationId':'c1'}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "true", "['ping']", "{'name':'ping'}"})
    void typeNotAString(String type) {
      assertBadRequest("type must be a string", null, "{'type':" + type + "}");
    }

    @Test
    void unknownType() {
      assertBadRequest("unknown frame type: shout", null, "{'type':'shout'}");
      assertBadRequest("unknown frame type: ", null, "{'type':''}");
      assertBadRequest("unknown frame type: PING", null, "{'type':'PING'}");
    }

    @Test
    void unknownTypeIsEchoedTruncated() {
      String type = "x".repeat(1000);
      assertBadRequest(
          "unknown frame type: " + "x".repeat(64) + "…", null, "{'type':'" + type + "'}");
    }

    @Test
    void unknownTypeWithAnIdempotencyKeyEchoesTheKey() {
      assertBadRequest("unknown frame type: shout", "k1", "{'type':'shout','idempotencyKey':'k1'}");
    }

    @Test
    void deeplyNestedArrays() {
      assertRaw(ErrorCode.BAD_REQUEST, LIMITS, null, "[".repeat(100_000));
    }

    @Test
    void deeplyNestedUnknownField() {
      String nested = "{'type':'ping','x':" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
      assertBadRequest(LIMITS, null, nested);
    }

    @Test
    void hugeString() {
      assertRaw(ErrorCode.BAD_REQUEST, LIMITS, null, sendWithBody("x".repeat(1_000_000)));
    }
  }

  @Nested
  class MalformedSend {

    @Test
    void missingConversationIdReferencesTheKey() {
      assertBadRequest(
          "missing field: conversationId",
          KEY,
          "{'type':'send','idempotencyKey':'" + KEY + "','body':'hi'}");
    }

    @Test
    void conversationIdNotAString() {
      assertBadRequest(
          "conversationId must be a string",
          KEY,
          "{'type':'send','conversationId':7,'idempotencyKey':'" + KEY + "','body':'hi'}");
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "",
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "a/b",
          "c 1",
          "ünïcode",
          "c1\\n",
          "ｃ1"
        })
    void invalidConversationIds(String id) {
      assertBadRequest(
          ID_RULE,
          KEY,
          "{'type':'send','conversationId':'"
              + id
              + "','idempotencyKey':'"
              + KEY
              + "','body':'hi'}");
    }

    @Test
    void missingKeyReferencesTheType() {
      assertBadRequest(
          "missing field: idempotencyKey",
          "send",
          "{'type':'send','conversationId':'c1','body':'hi'}");
    }

    @Test
    void keyNotAString() {
      assertBadRequest(
          "idempotencyKey must be a string",
          "send",
          "{'type':'send','conversationId':'c1','idempotencyKey':42,'body':'hi'}");
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "not-a-uuid",
          "1-1-1-1-1",
          "5b0e2c1a8f3d4e6a9b7c1d2e3f4a5b6c",
          "{5b0e2c1a-8f3d-4e6a-9b7c-1d2e3f4a5b6c}",
          "5b0e2c1a-8f3d-4e6a-9b7c-1d2e3f4a5b6g",
          " 5b0e2c1a-8f3d-4e6a-9b7c-1d2e3f4a5b6c"
        })
    void keyNotACanonicalUuid(String key) {
      assertBadRequest(
          "idempotencyKey must be a UUID",
          key,
          "{'type':'send','conversationId':'c1','idempotencyKey':'" + key + "','body':'hi'}");
    }

    @Test
    void bodyMissing() {
      assertBadRequest(
          "missing field: body",
          KEY,
          "{'type':'send','conversationId':'c1','idempotencyKey':'" + KEY + "'}");
    }

    @Test
    void bodyNotAString() {
      assertBadRequest(
          "body must be a string",
          KEY,
          "{'type':'send','conversationId':'c1','idempotencyKey':'" + KEY + "','body':['hi']}");
    }

    @Test
    void bodyEmpty() {
      assertRaw(ErrorCode.BAD_REQUEST, "body must not be empty", KEY, sendWithBody(""));
    }

    @Test
    void bodyOneOverTheMaximumIsTooLarge() {
      String body = "x".repeat(FrameCodec.MAX_BODY_CODE_POINTS + 1);
      assertRaw(ErrorCode.TOO_LARGE, "body exceeds 4000 characters", KEY, sendWithBody(body));
    }

    @Test
    void bodyOfEmojiOneOverTheMaximumIsTooLarge() {
      String body = "😀".repeat(FrameCodec.MAX_BODY_CODE_POINTS + 1);
      assertRaw(ErrorCode.TOO_LARGE, "body exceeds 4000 characters", KEY, sendWithBody(body));
    }

    @Test
    void bodyWithALoneSurrogate() {
      assertRaw(
          ErrorCode.BAD_REQUEST, "body is not valid Unicode text", KEY, sendWithBody("hi \\ud83d"));
    }
  }

  @Nested
  class MalformedSync {

    @ParameterizedTest
    @ValueSource(
        strings = {"-1", "1.5", "5.0", "'5'", "true", "1e300", "99999999999999999999", "{}"})
    void afterSeq(String value) {
      assertBadRequest(
          "afterSeq must be an integer >= 0",
          "sync",
          "{'type':'sync','conversationId':'c1','afterSeq':" + value + "}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "501", "-1", "1.5", "'5'", "true", "1e300"})
    void limit(String value) {
      assertBadRequest(
          "limit must be an integer from 1 to 500",
          "sync",
          "{'type':'sync','conversationId':'c1','limit':" + value + "}");
    }

    @Test
    void conversationId() {
      assertBadRequest("missing field: conversationId", "sync", "{'type':'sync'}");
      assertBadRequest(ID_RULE, "sync", "{'type':'sync','conversationId':'a/b'}");
    }
  }

  @Nested
  class MalformedConversationFrames {

    @ParameterizedTest
    @ValueSource(strings = {"open", "close", "typing"})
    void missingConversationId(String type) {
      assertBadRequest("missing field: conversationId", type, "{'type':'" + type + "'}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"open", "close", "typing"})
    void invalidConversationId(String type) {
      assertBadRequest(ID_RULE, type, "{'type':'" + type + "','conversationId':''}");
      assertBadRequest(
          "conversationId must be a string",
          type,
          "{'type':'" + type + "','conversationId':['c1']}");
    }
  }

  @Nested
  class MalformedReceipt {

    @Test
    void missingSeq() {
      assertBadRequest(
          "missing field: seq",
          "receipt",
          "{'type':'receipt','conversationId':'c1','kind':'read'}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-3", "1.5", "'5'", "false", "1e300"})
    void invalidSeq(String value) {
      assertBadRequest(
          "seq must be an integer >= 1",
          "receipt",
          "{'type':'receipt','conversationId':'c1','seq':" + value + ",'kind':'read'}");
    }

    @Test
    void missingKind() {
      assertBadRequest(
          "missing field: kind", "receipt", "{'type':'receipt','conversationId':'c1','seq':3}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"seen", "READ", ""})
    void unknownKind(String kind) {
      assertBadRequest(
          "kind must be \"delivered\" or \"read\"",
          "receipt",
          "{'type':'receipt','conversationId':'c1','seq':3,'kind':'" + kind + "'}");
    }

    @Test
    void kindNotAString() {
      assertBadRequest(
          "kind must be a string",
          "receipt",
          "{'type':'receipt','conversationId':'c1','seq':3,'kind':1}");
    }
  }

  /** Each expectation is protocol.md's example, with its "…" placeholders filled in. */
  @Nested
  class Encoding {

    private static final Instant SENT_AT = Instant.parse("2026-11-28T10:15:30.123Z");
    private static final ChatMessage MESSAGE =
        new ChatMessage("c1", 42, "alice", "hi", SENT_AT, "5b0e…");
    private static final String MESSAGE_JSON =
        "{\"type\":\"message\",\"conversationId\":\"c1\",\"seq\":42,\"senderId\":\"alice\","
            + "\"body\":\"hi\",\"sentAt\":\"2026-11-28T10:15:30.123Z\","
            + "\"idempotencyKey\":\"5b0e…\"}";

    private void assertEncoded(String expected, ServerFrame frame) {
      assertEquals(expected, codec.encode(frame));
    }

    @Test
    void welcome() {
      assertEncoded(
          "{\"type\":\"welcome\",\"userId\":\"alice\",\"deviceId\":\"phone\","
              + "\"node\":\"10.0.0.7:25520\",\"heartbeatSeconds\":30}",
          new Welcome("alice", "phone", "10.0.0.7:25520", 30));
    }

    @Test
    void ack() {
      assertEncoded(
          "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\"5b0e…\",\"seq\":42,"
              + "\"sentAt\":\"2026-11-28T10:15:30.123Z\"}",
          new Ack("c1", "5b0e…", 42, SENT_AT));
    }

    @Test
    void message() {
      assertEncoded(MESSAGE_JSON, MESSAGE);
    }

    @Test
    void history() {
      assertEncoded(
          "{\"type\":\"history\",\"conversationId\":\"c1\",\"messages\":["
              + MESSAGE_JSON
              + "],\"hasMore\":false}",
          new History("c1", List.of(MESSAGE), false));
      assertEncoded(
          "{\"type\":\"history\",\"conversationId\":\"c1\",\"messages\":[],\"hasMore\":true}",
          new History("c1", List.of(), true));
    }

    @Test
    void presenceOnlineOmitsLastSeen() {
      assertEncoded(
          "{\"type\":\"presence\",\"userId\":\"bob\",\"status\":\"online\"}",
          new Presence("bob", "online", null));
    }

    @Test
    void presenceOffline() {
      assertEncoded(
          "{\"type\":\"presence\",\"userId\":\"bob\",\"status\":\"offline\","
              + "\"lastSeen\":\"2026-11-28T10:15:30.123Z\"}",
          new Presence("bob", "offline", SENT_AT));
    }

    @Test
    void typing() {
      assertEncoded(
          "{\"type\":\"typing\",\"conversationId\":\"c1\",\"userId\":\"bob\"}",
          new TypingNotice("c1", "bob"));
    }

    @Test
    void receipt() {
      assertEncoded(
          "{\"type\":\"receipt\",\"conversationId\":\"c1\",\"userId\":\"bob\",\"seq\":42,"
              + "\"kind\":\"read\"}",
          new ReceiptNotice("c1", "bob", 42, "read"));
    }

    @Test
    void error() {
      assertEncoded(
          "{\"type\":\"error\",\"code\":\"forbidden\",\"message\":\"not a member of c1\","
              + "\"ref\":\"5b0e…\"}",
          new ServerFrame.Error(ErrorCode.FORBIDDEN, "not a member of c1", "5b0e…"));
    }

    @Test
    void errorWithoutRefOmitsIt() {
      assertEncoded(
          "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"frame is not valid JSON\"}",
          new ServerFrame.Error(ErrorCode.BAD_REQUEST, "frame is not valid JSON", null));
    }

    @Test
    void reconnect() {
      assertEncoded("{\"type\":\"reconnect\",\"reason\":\"draining\"}", new Reconnect("draining"));
    }

    @Test
    void pong() {
      assertEncoded("{\"type\":\"pong\"}", new Pong());
    }

    @Test
    void timestampsAlwaysCarryExactlyMilliseconds() {
      assertEncoded(
          "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\"k\",\"seq\":1,"
              + "\"sentAt\":\"2026-11-28T10:15:30.000Z\"}",
          new Ack("c1", "k", 1, Instant.parse("2026-11-28T10:15:30Z")));
      assertEncoded(
          "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\"k\",\"seq\":1,"
              + "\"sentAt\":\"2026-11-28T10:15:30.123Z\"}",
          new Ack("c1", "k", 1, Instant.parse("2026-11-28T10:15:30.123456789Z")));
    }

    @Test
    void everyErrorCodeHasItsWireName() {
      assertEquals(
          List.of(
              "bad_request",
              "unauthorized",
              "forbidden",
              "not_found",
              "too_large",
              "rate_limited",
              "unavailable"),
          Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).toList());
    }
  }

  @Nested
  class RandomInput {

    private static final String[] SEEDS = {
      "{\"type\":\"send\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
          + KEY
          + "\",\"body\":\"hi\"}",
      "{\"type\":\"sync\",\"conversationId\":\"c1\",\"afterSeq\":41,\"limit\":50}",
      "{\"type\":\"receipt\",\"conversationId\":\"c1\",\"seq\":42,\"kind\":\"read\"}",
      "{\"type\":\"open\",\"conversationId\":\"c1\"}",
      "{\"type\":\"ping\"}"
    };
    private static final String ALPHABET =
        "{}[]\":,.-+0123456789eEtrufalsn \\u\ud83d\ude00é\u0000\n";

    @Test
    void tenThousandRandomAndMutatedStringsAllDecodeWithoutThrowing() {
      Random random = new Random(20261128);
      for (int i = 0; i < 10_000; i++) {
        String text = i % 2 == 0 ? randomText(random) : mutate(SEEDS[i % SEEDS.length], random);
        assertNotNull(codec.decode(text), text);
      }
    }

    private static String randomText(Random random) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(80);
      for (int i = 0; i < length; i++) {
        text.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      return text.toString();
    }

    /** Replaces, inserts or deletes a few characters of a valid frame. */
    private static String mutate(String seed, Random random) {
      StringBuilder text = new StringBuilder(seed);
      int edits = 1 + random.nextInt(4);
      for (int i = 0; i < edits && text.length() > 0; i++) {
        int at = random.nextInt(text.length());
        char c = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        switch (random.nextInt(3)) {
          case 0 -> text.setCharAt(at, c);
          case 1 -> text.insert(at, c);
          default -> text.deleteCharAt(at);
        }
      }
      return text.toString();
    }
  }
}
