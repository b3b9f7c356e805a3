package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.TestNodes;
import io.parley.testing.WsClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bad tokens, non-members and malformed frames each get their answer; nothing else breaks. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class GatewayValidationIntegrationTest {

  private static TestCluster cluster;
  private static int port;

  @BeforeAll
  static void start(LocalStack stack) {
    cluster = TestCluster.start(stack, 1, Map.of("parley.gateway.max-frame-chars", 10_000));
    port = cluster.httpPort(0);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void badTokensGet401BeforeAnyUpgrade() {
    JwtSecret otherSecret =
        new JwtSecret("another-secret-0123456789abcdef0123456789".getBytes(StandardCharsets.UTF_8));
    String forged =
        new JwtIssuer(otherSecret, Clock.systemUTC()).issue("alice", Duration.ofHours(1));
    Clock twoHoursAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC);
    String expired =
        new JwtIssuer(
                new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)), twoHoursAgo)
            .issue("alice", Duration.ofHours(1));

    assertEquals(401, WsClient.refusedStatus(port, "device=d"), "no token");
    assertEquals(401, WsClient.refusedStatus(port, "access_token=not-a-jwt"), "malformed");
    assertEquals(401, WsClient.refusedStatus(port, "access_token=" + forged), "forged");
    assertEquals(401, WsClient.refusedStatus(port, "access_token=" + expired), "expired");
    assertEquals(
        400,
        WsClient.refusedStatus(
            port, "access_token=" + TestCluster.token("alice") + "&device=bad%20id"));

    // The same issuer, not backdated: accepted, so the 401s below are for what each token lacks.
    String fresh =
        new JwtIssuer(
                new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)),
                Clock.systemUTC())
            .issue("alice", Duration.ofHours(1));
    assertEquals(200, Api.get(port, "/api/conversations", fresh).status(), "fresh token");

    Map<String, String> restTokens = new LinkedHashMap<>();
    restTokens.put("forged", forged);
    restTokens.put("expired", expired);
    restTokens.put("malformed", "not-a-jwt");
    restTokens.put("missing", null);
    for (Map.Entry<String, String> bad : restTokens.entrySet()) {
      Api.Response rest = Api.get(port, "/api/conversations/c1", bad.getValue());
      assertEquals(401, rest.status(), () -> bad.getKey() + ": " + rest.body());
      assertEquals(
          "unauthorized", rest.body().path("error").path("code").asText(), () -> bad.getKey());
    }
    Api.Response expiredRest = Api.get(port, "/api/conversations/c1", expired);
    assertTrue(
        expiredRest.body().path("error").path("message").asText().contains("expired"),
        expiredRest.body()::toString);
    // The query parameter is read for REST too (Authentication), and is checked the same way.
    Api.Response expiredInQuery = Api.get(port, "/api/conversations?access_token=" + expired, null);
    assertEquals(401, expiredInQuery.status(), expiredInQuery.body()::toString);
    assertEquals("unauthorized", expiredInQuery.body().path("error").path("code").asText());
    Api.Response post = Api.post(port, "/api/conversations", expired, "{\"members\":[\"bob\"]}");
    assertEquals(401, post.status(), post.body()::toString);
    assertEquals("unauthorized", post.body().path("error").path("code").asText());
  }

  @Test
  void nonMembersAreForbiddenOnEveryFrameAndCall() {
    String conversation =
        Api.createConversation(
            port, "owner-" + UUID.randomUUID().toString().substring(0, 8), "bob");
    String mallory = "mallory";
    try (WsClient client = WsClient.connect(port, TestCluster.token(mallory), "d")) {
      String key = UUID.randomUUID().toString();
      List<Map<String, Object>> frames =
          List.of(
              MessagingIntegrationTest.send(conversation, key, "let me in"),
              Map.of("type", "sync", "conversationId", conversation, "afterSeq", 0),
              Map.of("type", "open", "conversationId", conversation),
              Map.of("type", "close", "conversationId", conversation),
              Map.of("type", "typing", "conversationId", conversation),
              Map.of("type", "receipt", "conversationId", conversation, "seq", 1, "kind", "read"));
      for (Map<String, Object> frame : frames) {
        client.send(frame);
        JsonNode error = client.next("error");
        assertEquals("forbidden", error.path("code").asText(), () -> "for " + frame);
        String expectedRef = frame.get("type").equals("send") ? key : (String) frame.get("type");
        assertEquals(expectedRef, error.path("ref").asText());
      }
    }
    String token = TestCluster.token(mallory);
    Api.Response info = Api.get(port, "/api/conversations/" + conversation, token);
    assertEquals(403, info.status(), info.body()::toString);
    assertEquals("forbidden", info.body().path("error").path("code").asText());
    String messages = "/api/conversations/" + conversation + "/messages";
    assertEquals(200, Api.get(port, messages, TestCluster.token("bob")).status(), "a member reads");
    for (String query : List.of("", "?afterSeq=0&limit=10", "?beforeSeq=10&limit=10")) {
      Api.Response page = Api.get(port, messages + query, token);
      assertEquals(403, page.status(), () -> query + ": " + page.body());
      assertEquals(
          "forbidden", page.body().path("error").path("code").asText(), () -> "for " + query);
    }
    Api.Response add =
        Api.post(
            port,
            "/api/conversations/" + conversation + "/members",
            token,
            "{\"userId\":\"mallory\"}");
    assertEquals(403, add.status());
    assertEquals("forbidden", add.body().path("error").path("code").asText());
    assertEquals(404, Api.get(port, "/api/conversations/no-such-conversation", token).status());
  }

  @Test
  void membersGrowTheConversationOverRest() {
    String owner = "owner-" + UUID.randomUUID().toString().substring(0, 8);
    String conversation = Api.createConversation(port, owner, "bob");
    Api.Response added =
        Api.post(
            port,
            "/api/conversations/" + conversation + "/members",
            TestCluster.token("bob"),
            "{\"userId\":\"dave\"}");
    assertEquals(200, added.status(), added.body()::toString);
    assertEquals(
        List.of(owner, "bob", "dave"),
        Json.mapper().convertValue(added.body().path("members"), List.class));
    assertEquals(
        200,
        Api.get(port, "/api/conversations/" + conversation, TestCluster.token("dave")).status());
  }

  @Test
  void badRestInputGetsAClearError() {
    String token = TestCluster.token("alice");
    assertEquals(400, Api.post(port, "/api/conversations", token, "{not json").status());
    assertEquals(
        400, Api.post(port, "/api/conversations", token, "{\"members\":[\"bad id\"]}").status());
    assertEquals(400, Api.get(port, "/api/conversations/" + "x".repeat(65), token).status());
    Api.Response tooLarge =
        Api.post(
            port, "/api/conversations", token, "{\"members\":[\"" + "a".repeat(70_000) + "\"]}");
    assertEquals(413, tooLarge.status());
    assertEquals("too_large", tooLarge.body().path("error").path("code").asText());
  }

  @Test
  void malformedFramesGetErrorsAndTheConnectionStaysOpen() {
    String conversation = Api.createConversation(port, "alice", "bob");
    try (WsClient client = WsClient.connect(port, TestCluster.token("alice"), "d")) {
      Map<String, String> expectations =
          Map.of(
              "this is not json",
              "bad_request",
              "[1,2,3]",
              "bad_request",
              "{\"type\":\"teleport\"}",
              "bad_request",
              "{\"type\":\"send\",\"conversationId\":\"" + conversation + "\",\"body\":\"no key\"}",
              "bad_request",
              "{\"type\":\"send\",\"conversationId\":\"bad id\",\"idempotencyKey\":\""
                  + UUID.randomUUID()
                  + "\",\"body\":\"x\"}",
              "bad_request",
              "{\"type\":\"send\",\"conversationId\":\""
                  + conversation
                  + "\",\"idempotencyKey\":\""
                  + UUID.randomUUID()
                  + "\",\"body\":\""
                  + "x".repeat(4001)
                  + "\"}",
              "too_large",
              "{\"type\":\"sync\",\"conversationId\":\"" + conversation + "\",\"limit\":501}",
              "bad_request");
      for (Map.Entry<String, String> bad : expectations.entrySet()) {
        client.send(bad.getKey());
        assertEquals(bad.getValue(), client.next("error").path("code").asText(), bad::getKey);
      }
      client.send("{\"type\":\"ping\"}");
      client.next("pong");
      client.send(
          MessagingIntegrationTest.send(conversation, UUID.randomUUID().toString(), "still works"));
      assertTrue(client.next("ack").path("seq").asLong() >= 1);
    }
  }

  @Test
  void binaryFramesGetBadRequestAndTheConnectionStaysOpen() {
    String conversation = Api.createConversation(port, "alice", "bob");
    try (WsClient client = WsClient.connect(port, TestCluster.token("alice"), "d")) {
      // A valid frame's bytes in a binary frame: refused, not answered as a ping.
      client.sendBinary("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
      JsonNode strict = client.next("error");
      assertEquals("bad_request", strict.path("code").asText(), strict::toString);
      assertFalse(strict.has("ref"), strict::toString);
      // One binary message split over several frames: one error for the whole message.
      client.sendBinaryFragments(List.of(new byte[] {1, 2, 3}, new byte[] {4, 5}, new byte[] {6}));
      JsonNode streamed = client.next("error");
      assertEquals("bad_request", streamed.path("code").asText(), streamed::toString);

      client.send("{\"type\":\"ping\"}");
      client.next("pong");
      String key = UUID.randomUUID().toString();
      client.send(MessagingIntegrationTest.send(conversation, key, "after binary"));
      JsonNode ack = client.next("ack");
      assertEquals(key, ack.path("idempotencyKey").asText());
      assertEquals(1, ack.path("seq").asLong());
      assertEquals(0, client.pending(), "nothing but the answers above");
    }
  }

  @Test
  void aFrameOverTheLimitIsAnsweredThenTheConnectionCloses() throws Exception {
    try (WsClient client = WsClient.connect(port, TestCluster.token("alice"), "d")) {
      client.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(20_000) + "\"}");
      assertEquals("too_large", client.next("error").path("code").asText());
      assertEquals(1000, client.closed().get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void aBinaryFrameOverTheLimitIsAnsweredThenTheConnectionCloses() throws Exception {
    try (WsClient client = WsClient.connect(port, TestCluster.token("alice"), "d")) {
      client.sendBinary(new byte[200_000]);
      assertEquals("too_large", client.next("error").path("code").asText());
      assertEquals(1000, client.closed().get(30, TimeUnit.SECONDS));
    }
  }
}
