package io.parley.presence;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lazy presence and typing across a real three-node cluster: status changes and typing reach the
 * sessions viewing the conversation, on whichever node, and nobody else.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class PresenceIntegrationTest {

  static final Duration DEBOUNCE = Duration.ofSeconds(1);

  private static TestCluster cluster;

  /** Short presence timings, so a test sees a debounce or an expiry within seconds. */
  static Map<String, Object> presenceTimings() {
    Map<String, Object> timings = new HashMap<>();
    timings.put("parley.presence.offline-debounce", DEBOUNCE.toMillis() + "ms");
    timings.put("parley.presence.poll-interval", "500ms");
    return timings;
  }

  @BeforeAll
  static void start(LocalStack stack) {
    cluster = TestCluster.start(stack, 3, presenceTimings());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static String user(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static Map<String, Object> frame(String type, String conversationId) {
    return Map.of("type", type, "conversationId", conversationId);
  }

  /** The next frame that is not a pong of {@link #roundTrip}. */
  static JsonNode presenceOf(WsClient client, String userId) {
    JsonNode presence = client.next("presence");
    assertEquals(userId, presence.path("userId").asText(), presence::toString);
    return presence;
  }

  /** A ping's pong arrives after every frame sent to this client before it: none may be pending. */
  static void assertNothingElse(WsClient client) {
    client.send(Map.of("type", "ping"));
    assertEquals("pong", client.next().path("type").asText(), "no other frame was pending");
  }

  @Test
  void aViewerOnAnotherNodeSeesConnectAndCleanCloseAndANonViewerSeesNothing() {
    String alice = user("alice");
    String bob = user("bob");
    String carol = user("carol");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob, carol);
    try (WsClient bobLaptop = WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "l")) {
      bobLaptop.send(frame("open", conversation));
      Map<String, JsonNode> initial = new HashMap<>();
      for (int i = 0; i < 2; i++) {
        JsonNode presence = bobLaptop.next("presence");
        initial.put(presence.path("userId").asText(), presence);
      }
      assertEquals(java.util.Set.of(alice, carol), initial.keySet(), "every other member at once");
      initial.values().forEach(p -> assertEquals("offline", p.path("status").asText()));
      assertTrue(initial.get(alice).path("lastSeen").isMissingNode(), "never seen: no lastSeen");

      try (WsClient carolPhone =
          WsClient.connect(cluster.httpPort(2), TestCluster.token(carol), "p")) {
        assertEquals("online", presenceOf(bobLaptop, carol).path("status").asText());

        Instant connected = Instant.now();
        WsClient alicePhone = WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "p");
        assertEquals("online", presenceOf(bobLaptop, alice).path("status").asText());

        alicePhone.close();
        Instant closed = Instant.now();
        JsonNode offline = presenceOf(bobLaptop, alice);
        assertEquals("offline", offline.path("status").asText());
        Instant lastSeen = Instant.parse(offline.path("lastSeen").asText());
        assertTrue(
            !lastSeen.isBefore(connected) && !lastSeen.isAfter(closed.plusSeconds(1)),
            "lastSeen is the moment of the close: " + lastSeen);

        assertNothingElse(bobLaptop);
        assertNothingElse(carolPhone); // a member who views nothing gets no presence at all
      }
    }
  }

  @Test
  void aReconnectWithinTheDebounceShowsViewersNothing() {
    String alice = user("alice");
    String bob = user("bob");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob);
    try (WsClient bobLaptop = WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "l")) {
      bobLaptop.send(frame("open", conversation));
      assertEquals("offline", presenceOf(bobLaptop, alice).path("status").asText());
      WsClient first = WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "p");
      assertEquals("online", presenceOf(bobLaptop, alice).path("status").asText());

      first.close(); // a flap: the same device is back on another node at once
      WsClient second = WsClient.connect(cluster.httpPort(2), TestCluster.token(alice), "p");
      await()
          .during(DEBOUNCE.multipliedBy(3))
          .atMost(DEBOUNCE.multipliedBy(10))
          .until(() -> bobLaptop.pending() == 0);
      assertNothingElse(bobLaptop);

      second.close();
      assertEquals("offline", presenceOf(bobLaptop, alice).path("status").asText());
    }
  }

  @Test
  void typingReachesViewersOfTheConversationOnly() {
    String alice = user("alice");
    String bob = user("bob");
    String carol = user("carol");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, bob, carol);
    try (WsClient alicePhone =
            WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "p");
        WsClient bobLaptop = WsClient.connect(cluster.httpPort(1), TestCluster.token(bob), "l");
        WsClient carolPhone = WsClient.connect(cluster.httpPort(2), TestCluster.token(carol), "p");
        WsClient mallory =
            WsClient.connect(cluster.httpPort(2), TestCluster.token(user("mallory")), "p")) {
      bobLaptop.send(frame("open", conversation));
      bobLaptop.next("presence"); // the current status of each other member: the view is in place
      bobLaptop.next("presence");

      alicePhone.send(frame("typing", conversation)); // not open here: checked, then forwarded
      JsonNode typing = nextSkipping(bobLaptop, "presence");
      assertEquals("typing", typing.path("type").asText(), typing::toString);
      assertEquals(conversation, typing.path("conversationId").asText());
      assertEquals(alice, typing.path("userId").asText());

      bobLaptop.send(frame("typing", conversation)); // bob is the only viewer: nobody to tell
      assertNothingElse(alicePhone);
      assertNothingElse(carolPhone);
      assertNothingElseBut(bobLaptop, "presence");

      mallory.send(frame("typing", conversation));
      JsonNode refused = mallory.next("error");
      assertEquals("forbidden", refused.path("code").asText());
      assertEquals("typing", refused.path("ref").asText());
      assertNothingElseBut(bobLaptop, "presence");
    }
  }

  @Test
  void onlyMembersMayOpenAConversation() {
    String alice = user("alice");
    String conversation = Api.createConversation(cluster.httpPort(0), alice, user("bob"));
    try (WsClient mallory =
            WsClient.connect(cluster.httpPort(1), TestCluster.token(user("mallory")), "p");
        WsClient alicePhone =
            WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "p")) {
      mallory.send(frame("open", conversation));
      JsonNode refused = mallory.next("error");
      assertEquals("forbidden", refused.path("code").asText());
      assertEquals("open", refused.path("ref").asText());
      mallory.send(frame("open", "no-such-conversation"));
      assertEquals("not_found", mallory.next("error").path("code").asText());

      alicePhone.send(Map.of("type", "open"));
      assertEquals("bad_request", alicePhone.next("error").path("code").asText());
      alicePhone.send(frame("close", conversation)); // closing what is not open: nothing happens
      assertNothingElse(alicePhone);
    }
  }

  /** The next frame not of type {@code skipped}. */
  static JsonNode nextSkipping(WsClient client, String skipped) {
    JsonNode frame = client.next();
    while (frame.path("type").asText().equals(skipped)) {
      frame = client.next();
    }
    return frame;
  }

  /** After a ping round trip, only frames of type {@code allowed} came before the pong. */
  static void assertNothingElseBut(WsClient client, String allowed) {
    client.send(Map.of("type", "ping"));
    assertEquals("pong", nextSkipping(client, allowed).path("type").asText());
  }
}
