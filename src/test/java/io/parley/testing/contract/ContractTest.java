package io.parley.testing.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.SchemaRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A test of the contract checks: the validators accept what the protocol says the server sends
 * (protocol.md's examples and the specs' own) and refuse frames and bodies that break a schema, so
 * that a server frame that breaks its schema fails the integration suites.
 */
class ContractTest {

  private static final String KEY = "5b0e8a52-3c55-4c1e-9a0e-0c4b4a1c2d3e";
  private static final String ACK =
      "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
          + KEY
          + "\","
          + "\"seq\":42,\"sentAt\":\"2026-11-28T10:15:30.123Z\"}";

  private final FrameContract frames = FrameContract.get();
  private final RestContract rest = RestContract.get();

  @Test
  void acceptsEveryServerFrameExampleOfProtocolMd() throws IOException {
    List<String> examples = protocolMdServerFrames();
    for (String example : examples) {
      assertEquals(Optional.empty(), frames.serverViolation(example), example);
    }
    Set<String> typesShown =
        examples.stream().map(ContractTest::typeOf).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(new TreeSet<>(frames.serverTypes()), typesShown, "one example per server frame");
  }

  @Test
  void acceptsTheSpecsOwnExamples() {
    JsonNode doc = ApiSpecs.document(ApiSpecs.ASYNCAPI);
    SchemaRegistry registry = ApiSpecs.asyncApiRegistry();
    int checked = 0;
    for (JsonNode message : doc.path("components").path("messages")) {
      var schema =
          ApiSpecs.schema(
              registry, ApiSpecs.ASYNCAPI, message.path("payload").path("$ref").asText());
      for (JsonNode example : message.path("examples")) {
        assertEquals(List.of(), schema.validate(example.path("payload")), example.toString());
        checked++;
      }
    }
    assertTrue(checked >= frames.serverTypes().size() + frames.clientTypes().size(), "" + checked);
  }

  @Test
  void knowsEachFrameOfTheProtocolByDirection() {
    assertEquals(
        Set.of(
            "welcome",
            "ack",
            "message",
            "history",
            "presence",
            "typing",
            "receipt",
            "error",
            "reconnect",
            "pong"),
        frames.serverTypes());
    assertEquals(
        Set.of("send", "sync", "open", "close", "typing", "receipt", "ping"), frames.clientTypes());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // a required field missing
        "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
            + KEY
            + "\","
            + "\"sentAt\":\"2026-11-28T10:15:30.123Z\"}",
        // a field of the wrong type
        "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
            + KEY
            + "\","
            + "\"seq\":\"42\",\"sentAt\":\"2026-11-28T10:15:30.123Z\"}",
        // a field the schema does not have
        "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
            + KEY
            + "\","
            + "\"seq\":42,\"sentAt\":\"2026-11-28T10:15:30.123Z\",\"node\":\"n1\"}",
        // a type the spec does not have
        "{\"type\":\"shout\",\"conversationId\":\"c1\"}",
        // no type at all, and no JSON at all
        "{\"conversationId\":\"c1\"}",
        "not json",
        // an error code, receipt kind, presence status or reconnect reason outside its enum
        "{\"type\":\"error\",\"code\":\"teapot\",\"message\":\"no\"}",
        "{\"type\":\"receipt\",\"conversationId\":\"c1\",\"userId\":\"bob\",\"seq\":1,\"kind\":\"seen\"}",
        "{\"type\":\"presence\",\"userId\":\"bob\",\"status\":\"away\"}",
        "{\"type\":\"reconnect\",\"reason\":\"bored\"}",
        // formats: a seq below 1, a time without milliseconds, an id off the id rule
        "{\"type\":\"ack\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
            + KEY
            + "\","
            + "\"seq\":0,\"sentAt\":\"2026-11-28T10:15:30.123Z\"}",
        "{\"type\":\"presence\",\"userId\":\"bob\",\"status\":\"offline\",\"lastSeen\":\"yesterday\"}",
        "{\"type\":\"typing\",\"conversationId\":\"c 1\",\"userId\":\"bob\"}",
        // online with a lastSeen: the spec keeps lastSeen for offline
        "{\"type\":\"presence\",\"userId\":\"bob\",\"status\":\"online\","
            + "\"lastSeen\":\"2026-11-28T10:15:30.123Z\"}",
        // a message of a history that breaks the message schema
        "{\"type\":\"history\",\"conversationId\":\"c1\",\"hasMore\":false,"
            + "\"messages\":[{\"type\":\"message\",\"conversationId\":\"c1\",\"seq\":1}]}"
      })
  void refusesAServerFrameThatBreaksItsSchema(String frame) {
    assertTrue(frames.serverViolation(frame).isPresent(), frame);
  }

  @Test
  void aClientFrameMayCarryFieldsTheServerIgnores() {
    String send =
        "{\"type\":\"send\",\"conversationId\":\"c1\",\"idempotencyKey\":\""
            + KEY
            + "\","
            + "\"body\":\"hi\",\"clientVersion\":\"2.1\"}";
    assertEquals(Optional.empty(), frames.clientViolation(send));
    assertTrue(frames.clientViolation("{\"type\":\"send\",\"conversationId\":\"c1\"}").isPresent());
    // the server's ack is no client frame
    assertTrue(frames.clientViolation(ACK).isPresent());
  }

  @Test
  void checksRestBodiesByOperationAndStatus() {
    String conversation =
        "{\"conversationId\":\"c1\",\"members\":[\"alice\",\"bob\"],\"lastSeq\":0,\"readSeq\":0}";
    String error = "{\"error\":{\"code\":\"forbidden\",\"message\":\"not a member of c1\"}}";
    assertEquals(Optional.empty(), restViolation("POST", "/api/conversations", 201, conversation));
    assertEquals(Optional.empty(), restViolation("GET", "/api/conversations/c1", 403, error));
    // a refusal of a path the API does not have still has the error body
    assertEquals(Optional.empty(), restViolation("GET", "/nowhere", 404, error));

    assertTrue(
        restViolation("POST", "/api/conversations", 201, "{\"conversationId\":\"c1\"}").isPresent(),
        "required fields missing");
    assertTrue(
        restViolation("GET", "/api/conversations/c1", 200, conversation.replace("}", ",\"x\":1}"))
            .isPresent(),
        "a field the schema does not have");
    assertTrue(
        restViolation("GET", "/api/conversations/c1", 403, "{\"error\":\"no\"}").isPresent());
    assertTrue(restViolation("GET", "/nowhere", 200, "{}").isPresent(), "no such operation");
    assertTrue(
        rest.violation("GET", "/metrics", 200, "application/json", "{}").isPresent(),
        "metrics are text");
    assertFalse(
        rest.violation("GET", "/metrics", 200, "text/plain; charset=UTF-8", "a 1").isPresent());
  }

  private Optional<String> restViolation(String method, String path, int status, String body) {
    return rest.violation(method, path, status, "application/json", body);
  }

  /**
   * protocol.md's one-line server frames, completed where the prose abbreviates: "5b0e…" is a UUID,
   * a bare "…" a time, and the history's "[ …message objects… ]" holds its message example.
   */
  private static List<String> protocolMdServerFrames() throws IOException {
    List<String> lines =
        Files.readAllLines(ApiSpecs.dir().resolve("../protocol.md").normalize()).stream()
            .filter(line -> line.startsWith("    {\"type\":"))
            .map(String::trim)
            .map(line -> line.replace("\"5b0e…\"", "\"" + KEY + "\""))
            .map(line -> line.replace("\"…\"", "\"2026-11-28T10:15:30.123Z\""))
            .toList();
    String message =
        lines.stream().filter(l -> l.startsWith("{\"type\":\"message\"")).findFirst().orElseThrow();
    List<String> examples =
        lines.stream()
            .map(line -> line.replaceAll("\\[ …message objects[^\\]]*]", "[" + message + "]"))
            .toList();
    examples.forEach(e -> assertFalse(e.contains("…"), "an abbreviation left in " + e));
    return examples;
  }

  private static String typeOf(String frame) {
    return frame.replaceAll("^\\{\"type\":\"([a-z_]+)\".*", "$1");
  }
}
