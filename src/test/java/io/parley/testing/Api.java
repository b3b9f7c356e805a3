package io.parley.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.testing.contract.RestContract;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The REST API through a real HTTP client. Every response is checked against docs/api/openapi.yaml
 * ({@link RestContract}), so each test that calls the API checks the contract too.
 */
public final class Api {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** A status code and a parsed JSON body. */
  public record Response(int status, JsonNode body) {}

  private Api() {}

  /** Creates a conversation as {@code creator} and returns its id. */
  public static String createConversation(int port, String creator, String... members) {
    Response created =
        post(
            port,
            "/api/conversations",
            TestCluster.token(creator),
            Json.write(Map.of("members", List.of(members))));
    assertEquals(201, created.status(), () -> "create failed: " + created.body());
    return created.body().path("conversationId").asText();
  }

  public static Response get(int port, String path, String token) {
    return send(request(port, path, token).GET().build());
  }

  /** A plain-text body (the Prometheus scrape), which must come with 200. */
  public static String text(int port, String path) {
    try {
      HttpResponse<String> response =
          HTTP.send(request(port, path, null).GET().build(), HttpResponse.BodyHandlers.ofString());
      RestContract.check(response);
      assertEquals(200, response.statusCode(), response::body);
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("request failed: " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public static Response post(int port, String path, String token, String body) {
    return send(
        request(port, path, token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  private static HttpRequest.Builder request(int port, String path, String token) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30));
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  private static Response send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      RestContract.check(response);
      JsonNode body =
          response.body().isEmpty()
              ? Json.mapper().nullNode()
              : Json.mapper().readTree(response.body());
      return new Response(response.statusCode(), body);
    } catch (IOException e) {
      throw new AssertionError("request failed: " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
