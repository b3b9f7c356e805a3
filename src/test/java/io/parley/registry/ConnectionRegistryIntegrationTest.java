package io.parley.registry;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.app.ParleyNode;
import io.parley.devstack.LocalStack;
import io.parley.registry.ConnectionRegistry.DeviceLocation;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.TestNodes;
import io.parley.testing.WsClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Device locations in real Redis: they appear, refresh, expire and vanish as designed. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class ConnectionRegistryIntegrationTest {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static ActorTestKit testKit;
  private static LocalStack stack;

  @BeforeAll
  static void start(LocalStack localStack) {
    stack = localStack;
    testKit = ActorTestKit.create("registry-test", TestNodes.localSystem(stack));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static ConnectionRegistry registry(Duration ttl) {
    return new ConnectionRegistry(RedisConnector.get(testKit.system()), ttl, Clock.systemUTC());
  }

  private static <T> T get(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
  }

  private static String user() {
    return "u-" + UUID.randomUUID();
  }

  @Test
  void locateFindsEveryDeviceOfEveryUserInOneCall() throws Exception {
    ConnectionRegistry registry = registry(Duration.ofMinutes(1));
    String alice = user();
    String bob = user();
    get(registry.register(alice, "phone", "node-a"));
    get(registry.register(alice, "laptop", "node-b"));
    get(registry.register(bob, "phone", "node-b"));

    Set<DeviceLocation> found = Set.copyOf(get(registry.locate(List.of(alice, bob, user()))));
    assertEquals(
        Set.of(
            new DeviceLocation(alice, "phone", "node-a"),
            new DeviceLocation(alice, "laptop", "node-b"),
            new DeviceLocation(bob, "phone", "node-b")),
        found);
  }

  @Test
  void anEntryExpiresWhenHeartbeatsStop() throws Exception {
    ConnectionRegistry registry = registry(Duration.ofMillis(1500));
    String alice = user();
    get(registry.register(alice, "phone", "node-a"));
    get(registry.register(alice, "laptop", "node-a"));
    assertEquals(2, get(registry.locate(List.of(alice))).size());

    // Only the laptop keeps its heartbeat; the phone's entry expires on its own.
    await()
        .atMost(DEADLINE)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              get(registry.register(alice, "laptop", "node-a"));
              return get(registry.locate(List.of(alice))).stream()
                  .map(DeviceLocation::deviceId)
                  .toList()
                  .equals(List.of("laptop"));
            });
    // And once no device refreshes, the whole key goes.
    await()
        .atMost(DEADLINE)
        .until(
            () -> get(RedisConnector.get(testKit.system()).async().exists("conn:" + alice)) == 0L);
  }

  @Test
  void unregisterRemovesOnlyTheNodesOwnEntry() throws Exception {
    ConnectionRegistry registry = registry(Duration.ofMinutes(1));
    String alice = user();
    get(registry.register(alice, "phone", "node-a"));
    get(registry.register(alice, "phone", "node-b")); // reconnected elsewhere before node-a noticed

    assertFalse(
        get(registry.unregister(alice, "phone", "node-a")), "a stale node cannot remove it");
    assertEquals(
        List.of(new DeviceLocation(alice, "phone", "node-b")),
        get(registry.locate(List.of(alice))));
    assertTrue(get(registry.unregister(alice, "phone", "node-b")));
    assertEquals(List.of(), get(registry.locate(List.of(alice))));
  }

  @Test
  void aConnectionRegistersItsDeviceUntilItCloses() throws Exception {
    try (TestCluster cluster = TestCluster.start(stack, 1, Map.of())) {
      ConnectionRegistry registry = registry(Duration.ofMinutes(1));
      String alice = user().substring(0, 20);
      String node = ParleyNode.nodeName(cluster.node(0).system());
      try (WsClient phone =
          WsClient.connect(cluster.httpPort(0), TestCluster.token(alice), "phone")) {
        assertEquals(
            List.of(new DeviceLocation(alice, "phone", node)),
            get(registry.locate(List.of(alice))),
            "registered by the time welcome arrives");
      }
      await().atMost(DEADLINE).until(() -> get(registry.locate(List.of(alice))).isEmpty());
    }
  }
}
