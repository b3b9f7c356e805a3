package io.parley.gateway;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import io.parley.Json;
import io.parley.auth.AuthResult;
import io.parley.auth.JwtAuthenticator;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.testing.RouteServer;
import java.net.http.HttpResponse;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DevTokenRoutesTest {

  private static final JwtSecret SECRET =
      new JwtSecret("test-secret-that-is-at-least-32-bytes".getBytes(UTF_8));

  /** demo.conf as shipped, without the environment (which may turn the setting on locally). */
  private static Config shippedDefaults() {
    return ConfigFactory.parseResources("demo.conf").resolve(ConfigResolveOptions.noSystem());
  }

  @Test
  void offByDefaultSoThePathDoesNotExist() {
    assertFalse(shippedDefaults().getBoolean("parley.demo.dev-tokens"));
    try (RouteServer server =
        RouteServer.start(DevTokenRoutes.fromConfig(shippedDefaults(), SECRET).routes())) {
      HttpResponse<String> response = server.post("/dev/token", "{\"userId\":\"alice\"}");
      assertEquals(404, response.statusCode(), response::body);
      assertEquals("not_found", json(response).path("error").path("code").asText());
    }
  }

  @Test
  void signsATokenTheNodesAccept() {
    try (RouteServer server = RouteServer.start(enabled())) {
      HttpResponse<String> response = server.post("/dev/token", "{\"userId\":\"alice_1-x\"}");
      assertEquals(200, response.statusCode(), response::body);
      AuthResult result =
          new JwtAuthenticator(SECRET, Clock.systemUTC())
              .authenticate(json(response).path("token").asText());
      assertEquals("alice_1-x", assertInstanceOf(AuthResult.Authenticated.class, result).userId());
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"userId\":\"\"}",
        "{\"userId\":\"al ice\"}",
        "{\"userId\":\"<script>\"}",
        "{}",
        "null",
        "not json",
        "{\"userId\":\"a0123456789012345678901234567890123456789012345678901234567890123\"}"
      })
  void aBadUserIdIsABadRequest(String body) {
    try (RouteServer server = RouteServer.start(enabled())) {
      HttpResponse<String> response = server.post("/dev/token", body);
      assertEquals(400, response.statusCode(), response::body);
      assertEquals("bad_request", json(response).path("error").path("code").asText());
    }
  }

  @Test
  void onlyPostIsAllowed() {
    try (RouteServer server = RouteServer.start(enabled())) {
      // Pekko answers a known path with another method 405.
      assertEquals(405, server.get("/dev/token").statusCode());
    }
  }

  private static org.apache.pekko.http.javadsl.server.Route enabled() {
    return new DevTokenRoutes(new JwtIssuer(SECRET, Clock.systemUTC()), true).routes();
  }

  private static JsonNode json(HttpResponse<String> response) {
    try {
      return Json.mapper().readTree(response.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }
}
