package io.parley.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.ConfigFactory;
import io.parley.CborSerializable;
import io.parley.pipeline.MessageRecord;
import io.parley.routing.NodeRouter;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What nodes of two releases must agree on during a rolling deploy: the receptionist keys (id and
 * message type name) of the router and the hub, and the class names (the CBOR manifest) and fields
 * of what crosses the cluster. Splitting the protocols kept them; this test keeps them kept.
 */
class WireNamesTest {

  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create("WireNamesTest", ConfigFactory.parseResources("serialization.conf"));
    serialization = SerializationExtension.get(testKit.system().classicSystem());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void theReceptionistKeysKeepTheirIdsAndTypeNames() {
    assertEquals(
        "ServiceKey[io.parley.routing.NodeRouter$Command](parley-node-router)",
        NodeRouter.KEY.toString());
    assertEquals(
        "ServiceKey[io.parley.presence.PresenceHub$Command](parley-presence-hub)",
        PresenceHub.KEY.toString());
  }

  @Test
  void whatCrossesTheClusterKeepsItsClassNameAndRoundTrips() {
    MessageRecord record = new MessageRecord("c1", 3, "alice", "phone", "k3", "hi", Instant.EPOCH);
    assertWire(
        "io.parley.routing.NodeRouter$Envelope",
        new NodeRouter.Envelope(
            new NodeRouter.Push(record), List.of(new NodeRouter.Recipient("bob", "laptop"))));
    assertWire(
        "io.parley.presence.PresenceHub$StatusChanged",
        new PresenceHub.StatusChanged("bob", false, Instant.EPOCH));
    assertWire(
        "io.parley.presence.PresenceHub$TypingSeen", new PresenceHub.TypingSeen("c1", "bob"));
  }

  @Test
  void nodeLocalProtocolsDoNotCarryTheMarker() {
    assertFalse(CborSerializable.class.isAssignableFrom(NodeRouter.Local.class));
    assertFalse(CborSerializable.class.isAssignableFrom(PresenceHub.Local.class));
  }

  private static void assertWire(String manifest, Object message) {
    var serializer = serialization.findSerializerFor(message);
    assertEquals(manifest, Serializers.manifestFor(serializer, message));
    byte[] bytes = serialization.serialize(message).get();
    assertEquals(
        message, serialization.deserialize(bytes, serializer.identifier(), manifest).get());
  }
}
