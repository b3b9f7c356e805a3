package io.parley.testing.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import io.parley.Json;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The WebSocket frames of docs/api/asyncapi.yaml, by direction and {@code type}. A frame is the
 * server's when a {@code send} operation or the reply of a {@code receive} operation names it, and
 * the client's when a {@code receive} operation does. Thread-safe.
 */
public final class FrameContract {

  private static final class Holder {
    static final FrameContract INSTANCE = load();
  }

  private final Map<String, Schema> server;
  private final Map<String, Schema> client;

  private FrameContract(Map<String, Schema> server, Map<String, Schema> client) {
    this.server = server;
    this.client = client;
  }

  /** Read once per test JVM. */
  public static FrameContract get() {
    return Holder.INSTANCE;
  }

  public Set<String> serverTypes() {
    return server.keySet();
  }

  public Set<String> clientTypes() {
    return client.keySet();
  }

  /** Why {@code text}, a frame the server sent, breaks the spec; empty when it does not. */
  public Optional<String> serverViolation(String text) {
    return violation(server, "server", text);
  }

  /** Why {@code text}, a frame a client sends, breaks the spec; empty when it does not. */
  public Optional<String> clientViolation(String text) {
    return violation(client, "client", text);
  }

  private static Optional<String> violation(Map<String, Schema> frames, String side, String text) {
    JsonNode frame;
    try {
      frame = Json.mapper().readTree(text);
    } catch (JsonProcessingException e) {
      return Optional.of(side + " frame is not JSON: " + text);
    }
    Schema schema = frames.get(frame.path("type").asText(""));
    if (schema == null) {
      return Optional.of(side + " frame of a type asyncapi.yaml does not have: " + text);
    }
    List<Error> errors = schema.validate(frame);
    return errors.isEmpty()
        ? Optional.empty()
        : Optional.of(
            side + " frame breaks asyncapi.yaml: " + ApiSpecs.describe(errors) + ": " + text);
  }

  private static FrameContract load() {
    JsonNode doc = ApiSpecs.document(ApiSpecs.ASYNCAPI);
    SchemaRegistry registry = ApiSpecs.asyncApiRegistry();
    Map<String, Schema> server = new TreeMap<>();
    Map<String, Schema> client = new TreeMap<>();
    for (JsonNode operation : doc.path("operations")) {
      boolean sends = operation.path("action").asText().equals("send");
      for (JsonNode ref : operation.path("messages")) {
        add(sends ? server : client, doc, registry, ref);
      }
      for (JsonNode ref : operation.path("reply").path("messages")) {
        add(server, doc, registry, ref);
      }
    }
    if (server.isEmpty() || client.isEmpty()) {
      throw new IllegalStateException("asyncapi.yaml names no server or no client frames");
    }
    return new FrameContract(Map.copyOf(server), Map.copyOf(client));
  }

  /** {@code ref}: a message reference, followed to its message and that to its payload. */
  private static void add(
      Map<String, Schema> frames, JsonNode doc, SchemaRegistry registry, JsonNode ref) {
    JsonNode message = follow(doc, ref);
    String payload = message.path("payload").path("$ref").asText();
    if (!payload.startsWith("#/")) {
      throw new IllegalStateException("a message's payload must be a $ref to a schema: " + message);
    }
    String type =
        follow(doc, message.path("payload")).path("properties").path("type").path("const").asText();
    if (type.isEmpty()) {
      throw new IllegalStateException("a frame's schema must fix its type with const: " + payload);
    }
    frames.put(type, ApiSpecs.schema(registry, ApiSpecs.ASYNCAPI, payload));
  }

  /** Follows local {@code $ref}s ("#/…") until a node that is not one. */
  static JsonNode follow(JsonNode doc, JsonNode node) {
    JsonNode current = node;
    while (current.has("$ref")) {
      String ref = current.get("$ref").asText();
      if (!ref.startsWith("#/")) {
        throw new IllegalStateException("only local references are followed here: " + ref);
      }
      current = doc.at(ref.substring(1));
    }
    return current;
  }
}
