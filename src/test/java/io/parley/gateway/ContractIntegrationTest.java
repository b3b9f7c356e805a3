package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import io.parley.testing.contract.FrameContract;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every frame type and every REST endpoint of docs/api/ at least once, against a real node. {@link
 * WsClient} and {@link Api} check each frame and body against the specs as it arrives; this suite
 * makes sure that each kind is among them, and checks what it sends against the client schemas.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContractIntegrationTest {

  private static TestCluster cluster;

  @BeforeAll
  static void start(LocalStack stack) {
    cluster =
        TestCluster.start(
            stack,
            1,
            Map.of(
                "parley.demo.dev-tokens", "on",
                // offline (with lastSeen) within the test's deadlines
                "parley.presence.offline-debounce", "200ms",
                "parley.presence.poll-interval", "500ms"));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close(); // the node is stopped already after the last test; this is then a no-op
    }
  }

  @Test
  @Order(1)
  void everyRestEndpointAnswersAsTheSpecSays() {
    String alice = user("alice");
    String bob = user("bob");
    String aliceToken = TestCluster.token(alice);
    String id = created(aliceToken, "{\"members\":[\"" + bob + "\"],\"title\":\"t\"}");

    assertStatus(200, Api.get(port(), "/api/conversations/" + id, aliceToken));
    assertStatus(200, Api.get(port(), "/api/conversations", aliceToken));
    assertStatus(200, Api.get(port(), "/api/conversations?limit=1", aliceToken));
    assertStatus(200, post("/api/conversations/" + id + "/members", aliceToken, userId("dave")));
    assertStatus(200, Api.get(port(), "/api/conversations/" + id + "/messages", aliceToken));
    assertStatus(
        200, Api.get(port(), "/api/conversations/" + id + "/messages?beforeSeq=5", aliceToken));

    assertStatus(400, Api.get(port(), "/api/conversations?limit=0", aliceToken));
    assertStatus(400, post("/api/conversations", aliceToken, "[]"));
    assertStatus(401, Api.get(port(), "/api/conversations", null));
    assertStatus(403, Api.get(port(), "/api/conversations/" + id, TestCluster.token(user("eve"))));
    assertStatus(404, Api.get(port(), "/api/conversations/" + UUID.randomUUID(), aliceToken));
    assertStatus(404, Api.get(port(), "/api/nothing", aliceToken));
    assertStatus(405, post("/health/alive", null, "{}"));

    assertStatus(401, Api.get(port(), "/ws", null));
    assertStatus(400, Api.get(port(), "/ws?device=no%20spaces", aliceToken));
    assertStatus(200, Api.get(port(), "/health/alive", null));
    assertStatus(200, Api.get(port(), "/health/ready", null));
    assertStatus(200, post("/dev/token", null, userId("frank")));
    assertStatus(400, post("/dev/token", null, "{}"));
    for (String text : List.of("/metrics", "/", "/app.js", "/style.css")) {
      assertFalse(Api.text(port(), text).isEmpty(), text);
    }
  }

  @Test
  @Order(2)
  void everyServerFrameOfTheSpecIsSentAndConforms() {
    String alice = user("alice");
    String bob = user("bob");
    String carol = user("carol");
    String id = Api.createConversation(port(), alice, bob, carol);
    Frames sent = new Frames();
    try (WsClient alicePhone = connect(alice);
        WsClient bobLaptop = connect(bob)) {
      sent.send(bobLaptop, frame("open", id));
      awaitAll(
          bobLaptop,
          List.of(f -> isPresence(f, alice, "online"), f -> isPresence(f, carol, "offline")));

      String key = UUID.randomUUID().toString();
      sent.send(
          alicePhone,
          Map.of("type", "send", "conversationId", id, "idempotencyKey", key, "body", "hi"));
      long seq = await(alicePhone, f -> type(f, "ack")).path("seq").asLong();
      await(bobLaptop, f -> type(f, "message"));
      sent.send(alicePhone, frame("typing", id));
      await(bobLaptop, f -> type(f, "typing"));
      sent.send(
          bobLaptop, Map.of("type", "receipt", "conversationId", id, "seq", seq, "kind", "read"));
      await(alicePhone, f -> type(f, "receipt"));
      sent.send(alicePhone, Map.of("type", "sync", "conversationId", id, "afterSeq", 0));
      assertEquals(1, await(alicePhone, f -> type(f, "history")).path("messages").size());
      sent.send(alicePhone, Map.of("type", "ping"));
      await(alicePhone, f -> type(f, "pong"));
      alicePhone.send("{\"type\":\"shout\"}"); // not a client frame: answered with an error
      await(alicePhone, f -> type(f, "error"));

      try (WsClient carolTablet = connect(carol)) {
        await(bobLaptop, f -> isPresence(f, carol, "online"));
      }
      await(bobLaptop, f -> isPresence(f, carol, "offline") && f.has("lastSeen"));
      sent.send(bobLaptop, frame("close", id));

      cluster.stop(0); // drains: every client is told to reconnect
      await(alicePhone, f -> type(f, "reconnect"));
      await(bobLaptop, f -> type(f, "reconnect"));

      Set<String> seen = new TreeSet<>(alicePhone.typesSeen());
      seen.addAll(bobLaptop.typesSeen());
      assertEquals(new TreeSet<>(FrameContract.get().serverTypes()), seen);
      assertEquals(new TreeSet<>(FrameContract.get().clientTypes()), sent.types);
    }
  }

  /** What the test sends, each frame checked against its client schema first. */
  private static final class Frames {
    final Set<String> types = new TreeSet<>();

    void send(WsClient client, Map<String, Object> frame) {
      String text = Json.write(frame);
      FrameContract.get()
          .clientViolation(text)
          .ifPresent(
              why -> {
                throw new AssertionError(why);
              });
      types.add((String) frame.get("type"));
      client.send(text);
    }
  }

  /** The first frame that matches; the ones before it are received (and checked) too. */
  private static JsonNode await(WsClient client, Predicate<JsonNode> wanted) {
    List<JsonNode> skipped = new ArrayList<>();
    while (true) {
      JsonNode frame = client.next(); // fails after WsClient.DEADLINE without a frame
      if (wanted.test(frame)) {
        return frame;
      }
      skipped.add(frame);
      assertTrue(skipped.size() < 100, () -> "no wanted frame among " + skipped);
    }
  }

  /** Frames until each of {@code wanted} has matched one, in whatever order they come. */
  private static void awaitAll(WsClient client, List<Predicate<JsonNode>> wanted) {
    List<Predicate<JsonNode>> left = new ArrayList<>(wanted);
    List<JsonNode> received = new ArrayList<>();
    while (!left.isEmpty()) {
      JsonNode frame = client.next();
      received.add(frame);
      left.removeIf(predicate -> predicate.test(frame));
      assertTrue(received.size() < 100, () -> "not all wanted frames among " + received);
    }
  }

  private static boolean type(JsonNode frame, String type) {
    return frame.path("type").asText().equals(type);
  }

  private static boolean isPresence(JsonNode frame, String userId, String status) {
    return type(frame, "presence")
        && frame.path("userId").asText().equals(userId)
        && frame.path("status").asText().equals(status);
  }

  private static Map<String, Object> frame(String type, String conversationId) {
    return Map.of("type", type, "conversationId", conversationId);
  }

  private static WsClient connect(String user) {
    return WsClient.connect(port(), TestCluster.token(user), "d1");
  }

  private static String created(String token, String body) {
    Api.Response created = post("/api/conversations", token, body);
    assertStatus(201, created);
    return created.body().path("conversationId").asText();
  }

  private static Api.Response post(String path, String token, String body) {
    return Api.post(port(), path, token, body);
  }

  private static String userId(String id) {
    return "{\"userId\":\"" + id + "\"}";
  }

  private static void assertStatus(int status, Api.Response response) {
    assertEquals(status, response.status(), () -> "body: " + response.body());
  }

  private static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static int port() {
    return cluster.httpPort(0);
  }
}
