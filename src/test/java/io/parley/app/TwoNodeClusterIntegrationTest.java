package io.parley.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.devstack.LocalStack;
import io.parley.devstack.StackOptions;
import io.parley.devstack.StackService;
import io.parley.testing.Counter;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.japi.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two nodes in one JVM form a cluster, share sharded entities and report readiness. They use a
 * Redis of their own so that stopping it does not disturb the other suites. The tests run in any
 * order: each waits for what it needs (both nodes up, or ready) and leaves Redis running.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class TwoNodeClusterIntegrationTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static LocalStack privateRedis;
  private static ParleyNode first;
  private static ParleyNode second;

  @BeforeAll
  static void startCluster(LocalStack stack) {
    privateRedis = LocalStack.start(StackOptions.defaults().only(StackService.REDIS));
    Map<String, String> redis = Map.of("parley.redis.uri", privateRedis.redis().uri());
    first = ParleyNode.start(TestNodes.clusterNode(stack, null, redis));
    second = ParleyNode.start(TestNodes.clusterNode(stack, TestNodes.address(first), redis));
    for (ParleyNode node : List.of(first, second)) {
      ClusterSharding.get(node.system())
          .init(Entity.of(Counter.ENTITY_KEY, ctx -> Counter.create(ctx.getEntityId())));
    }
  }

  @AfterAll
  static void stopCluster() {
    // One at a time: the second leaves while the first can still acknowledge it.
    if (second != null) second.close();
    if (first != null) first.close();
    if (privateRedis != null) privateRedis.close();
  }

  @Test
  void bothNodesJoinAndSeeEachOtherUp() {
    awaitBothUp();
  }

  @Test
  void aShardedEntityAnswersFromBothNodes() throws Exception {
    awaitBothUp();
    // Fresh ids: the journal is shared, so another run's counter would not start at 0.
    String run = UUID.randomUUID().toString();
    for (int i = 0; i < 10; i++) {
      String id = "counter-" + run + "-" + i;
      assertEquals(1, ask(entity(first, id), Counter.Increment::new));
      assertEquals(1, ask(entity(second, id), Counter.Get::new), "node 2 reaches the same entity");
      assertEquals(2, ask(entity(second, id), Counter.Increment::new));
      assertEquals(2, ask(entity(first, id), Counter.Get::new), "node 1 sees node 2's write");
    }
  }

  @Test
  void bothNodesAreReady() throws Exception {
    awaitBothReady();
    assertEquals(200, status(first, "/health/alive"));
  }

  @Test
  void aNodeIsNotReadyWhileRedisIsDown() throws Exception {
    awaitBothReady(); // else a 503 could mean "not joined yet"
    privateRedis.redis().stop();
    try {
      await().atMost(DEADLINE).until(() -> readyStatus(first) == 503 && readyStatus(second) == 503);
      String body = get(first, "/health/ready").body();
      assertTrue(body.contains("\"redis\":false"), body);
      assertTrue(body.contains("\"kafka\":true"), body);
      assertEquals(200, status(first, "/health/alive"), "alive while not ready");
    } finally {
      privateRedis.redis().restart();
    }
    awaitBothReady();
  }

  private static void awaitBothUp() {
    await().atMost(DEADLINE).until(() -> upMembers(first) == 2 && upMembers(second) == 2);
  }

  private static void awaitBothReady() {
    await().atMost(DEADLINE).until(() -> readyStatus(first) == 200 && readyStatus(second) == 200);
  }

  private static long upMembers(ParleyNode node) {
    return StreamSupport.stream(
            Cluster.get(node.system()).state().getMembers().spliterator(), false)
        .filter(m -> m.status().equals(MemberStatus.up()))
        .count();
  }

  private static EntityRef<Counter.Command> entity(ParleyNode node, String id) {
    return ClusterSharding.get(node.system()).entityRefFor(Counter.ENTITY_KEY, id);
  }

  private static int ask(
      EntityRef<Counter.Command> ref, Function<ActorRef<Integer>, Counter.Command> message)
      throws Exception {
    return ref.ask(message, DEADLINE)
        .toCompletableFuture()
        .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
  }

  private static int readyStatus(ParleyNode node) throws Exception {
    return status(node, "/health/ready");
  }

  private static int status(ParleyNode node, String path) throws Exception {
    return get(node, path).statusCode();
  }

  private static HttpResponse<String> get(ParleyNode node, String path) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + node.httpAddress().getPort() + path);
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
