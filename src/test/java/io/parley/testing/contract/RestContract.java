package io.parley.testing.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import io.parley.Json;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The REST responses of docs/api/openapi.yaml: a response must have a status its operation
 * documents (or its {@code default}), that status's media type and, for JSON, a body its schema
 * accepts. A request the spec has no operation for must get the error body every refusal has. JSON
 * bodies are described by a {@code $ref} to a named schema. Thread-safe.
 */
public final class RestContract {

  private static final class Holder {
    static final RestContract INSTANCE = new RestContract();
  }

  private static final String JSON = "application/json";
  private static final String ERROR_BODY = "#/components/schemas/ErrorBody";

  private final JsonNode doc = ApiSpecs.document(ApiSpecs.OPENAPI);
  private final SchemaRegistry registry = ApiSpecs.openApiRegistry();
  private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

  private RestContract() {}

  public static RestContract get() {
    return Holder.INSTANCE;
  }

  /** Fails with a {@link ContractViolation} when the response breaks the spec. */
  public static void check(HttpResponse<String> response) {
    String contentType = response.headers().firstValue("Content-Type").orElse("");
    get()
        .violation(
            response.request().method(),
            response.request().uri().getPath(),
            response.statusCode(),
            contentType,
            response.body())
        .ifPresent(
            why -> {
              throw new ContractViolation(why);
            });
  }

  /** Why this response breaks openapi.yaml; empty when it does not. */
  public Optional<String> violation(
      String method, String path, int status, String contentType, String body) {
    String where = method + " " + path + " → " + status + ": ";
    JsonNode operation = operation(method, path);
    if (operation == null) {
      return status >= 400
          ? json(ERROR_BODY, body).map(why -> where + "a refusal without the error body: " + why)
          : Optional.of(where + "openapi.yaml has no such operation");
    }
    JsonNode response = FrameContract.follow(doc, documented(operation.path("responses"), status));
    if (response.isMissingNode()) {
      return Optional.of(where + "openapi.yaml documents no such status here");
    }
    return content(response, contentType, body).map(why -> where + why);
  }

  private Optional<String> content(JsonNode response, String contentType, String body) {
    JsonNode content = response.path("content");
    if (content.isMissingNode()) {
      return body.isEmpty() ? Optional.empty() : Optional.of("a body where none is documented");
    }
    String mediaType = contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
    JsonNode media = content.path(mediaType);
    if (media.isMissingNode()) {
      return Optional.of("media type " + contentType + " is not documented here");
    }
    if (!mediaType.equals(JSON)) {
      return Optional.empty(); // text: the spec says no more than the type
    }
    String ref = media.path("schema").path("$ref").asText();
    if (ref.isEmpty()) {
      return Optional.of("a JSON body must be described by a $ref to a named schema");
    }
    return json(ref, body);
  }

  /** {@code ref} as openapi.yaml writes it: "#/…" in itself, "./asyncapi.yaml#/…" beside it. */
  private Optional<String> json(String ref, String body) {
    JsonNode value;
    try {
      value = Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      return Optional.of("not JSON: " + body);
    }
    Schema schema = schemas.computeIfAbsent(ref, this::load);
    List<Error> errors = schema.validate(value);
    return errors.isEmpty()
        ? Optional.empty()
        : Optional.of("breaks " + ref + ": " + ApiSpecs.describe(errors) + ": " + body);
  }

  private Schema load(String ref) {
    int hash = ref.indexOf('#');
    String file = hash == 0 ? ApiSpecs.OPENAPI : ref.substring(0, hash).replaceFirst("^\\./", "");
    return ApiSpecs.schema(registry, file, ref.substring(hash));
  }

  /** The operation of {@code method} on the path (template) that {@code path} matches, or null. */
  private JsonNode operation(String method, String path) {
    Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
    while (paths.hasNext()) {
      Map.Entry<String, JsonNode> entry = paths.next();
      if (template(entry.getKey()).matcher(path).matches()) {
        JsonNode operation = entry.getValue().path(method.toLowerCase(Locale.ROOT));
        return operation.isMissingNode() ? null : operation;
      }
    }
    return null;
  }

  /** "/api/conversations/{conversationId}" matches one segment where the braces are. */
  private static Pattern template(String template) {
    String[] parts = template.split("\\{[^}/]+}", -1);
    StringBuilder regex = new StringBuilder(Pattern.quote(parts[0]));
    for (int i = 1; i < parts.length; i++) {
      regex.append("[^/]+").append(Pattern.quote(parts[i]));
    }
    return Pattern.compile(regex.toString());
  }

  /** The exact status, else its range ("4XX"), else {@code default}. */
  private static JsonNode documented(JsonNode responses, int status) {
    for (String key : List.of(Integer.toString(status), status / 100 + "XX", "default")) {
      if (responses.has(key)) {
        return responses.get(key);
      }
    }
    return responses.path(Integer.toString(status));
  }
}
