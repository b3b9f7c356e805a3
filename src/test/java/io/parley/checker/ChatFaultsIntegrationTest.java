package io.parley.checker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.parley.Json;
import io.parley.devstack.LocalStack;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chat checker under one fault per run, against three node processes and the shared stack: a
 * drain of each node in turn, kill -9 of a node, a Kafka broker restart, a Redis restart (its keys
 * lost), Cassandra stopped for a minute, and a device that never reads. Every run ends with {@link
 * ChatChecker#finish}, which fails on any lost, doubled or reordered message; the figures go to
 * target/checker/figures.md (docs/reliability.md holds a run's).
 *
 * <p>The order only fixes the sequence of faults, so that the figures of two runs compare; no test
 * needs another: each starts from three live nodes and a whole stack ({@link #fromAHealthyStart}).
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChatFaultsIntegrationTest {

  /** How long Cassandra stays down (`-Dparley.checker.cassandra-outage=PT60S` by default). */
  private static final Duration CASSANDRA_OUTAGE =
      Duration.parse(System.getProperty("parley.checker.cassandra-outage", "PT60S"));

  private LocalStack stack;
  private NodeSet nodes;
  private RedisClient redisClient;
  private StatefulRedisConnection<String, String> redis;

  @BeforeAll
  void startNodes(LocalStack stack) throws Exception {
    this.stack = stack;
    redisClient = RedisClient.create(stack.redis().uri());
    redis = redisClient.connect(); // reconnects by itself after the Redis restart
    nodes = NodeSet.start(stack, 3, "faults");
  }

  /** Whatever an earlier test did (or failed to undo), this one starts from a healthy cluster. */
  @BeforeEach
  void fromAHealthyStart() throws Exception {
    stack.restartStopped();
    nodes.replaceExited();
  }

  @AfterAll
  void stopNodes() {
    if (nodes != null) {
      nodes.close();
    }
    if (redisClient != null) {
      redisClient.shutdown();
    }
  }

  @Test
  @Order(1)
  void aDrainOfEachNodeInTurnLosesNothing() throws Exception {
    try (ChatChecker checker = ChatChecker.start(nodes, "drain", 3, 3, 2, 64)) {
      checker.awaitProgress();
      List<NodeSet.Stopped> drains = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        NodeSet.Stopped drain = nodes.drain(i);
        assertTrue(drain.exitCode() != -1, "node " + i + " drained and exited in time");
        drains.add(drain);
        nodes.replace(i);
        checker.awaitProgress();
      }
      checker.finish("SIGTERM drain of each node in turn");
      checkReconnectsSpread(checker.clients(), drains);
    }
  }

  @Test
  @Order(2)
  void aKilledNodeLosesNothing() throws Exception {
    try (ChatChecker checker = ChatChecker.start(nodes, "kill", 3, 3, 2, 64)) {
      checker.awaitProgress();
      NodeSet.Stopped kill = nodes.kill(2);
      checker.awaitProgress(); // its clients found another node, its shards moved
      System.out.printf("kill -9: node gone %d ms after the signal%n", kill.took().toMillis());
      nodes.replace(2);
      checker.awaitProgress();
      checker.finish("kill -9 of a node");
    }
  }

  @Test
  @Order(3)
  void aKafkaBrokerRestartLosesNothing() throws Exception {
    try (ChatChecker checker = ChatChecker.start(nodes, "kafka", 3, 3, 2, 64)) {
      checker.awaitProgress();
      stack.kafka().restart();
      System.out.printf("kafka: broker back in %d ms%n", stack.kafka().lastStartTime().toMillis());
      checker.awaitProgress();
      checker.finish("Kafka broker restarted");
    }
  }

  /**
   * Redis restarts empty: the registry, presence and dedup keys are gone. Every node's sessions
   * register again as soon as the node's connection is back (heartbeats here are 10 minutes apart,
   * so pushes resuming proves it); messages are not lost (they are in Kafka and history).
   */
  @Test
  @Order(4)
  void aRedisRestartLosesNoMessage() throws Exception {
    try (ChatChecker checker = ChatChecker.start(nodes, "redis", 3, 3, 2, 64)) {
      checker.awaitProgress();
      redis(commands -> commands.set("checker:marker", "before the restart"));
      stack.redis().restart();
      long marker = redis(commands -> commands.exists("checker:marker"));
      assertEquals(0L, marker, "Redis came back without its keys");
      checker.awaitProgress(); // acks and pushes flow again: the registry healed
      checker.finish("Redis restarted (all keys lost)");
    }
  }

  @Test
  @Order(5)
  void aCassandraOutageLosesNothing() throws Exception {
    try (ChatChecker checker = ChatChecker.start(nodes, "cassandra", 3, 3, 2, 64)) {
      checker.awaitProgress();
      Instant down = Instant.now();
      try {
        stack.cassandra().stop();
        // The outage lasts this long: the fault's duration, not a wait for something to happen.
        Thread.sleep(CASSANDRA_OUTAGE.toMillis());
      } finally {
        stack.cassandra().restart();
      }
      System.out.printf(
          "cassandra: down %d s, back in %d ms%n",
          Duration.between(down, Instant.now()).toSeconds(),
          stack.cassandra().lastStartTime().toMillis());
      checker.awaitProgress();
      checker.finish("Cassandra stopped " + CASSANDRA_OUTAGE.toSeconds() + " s");
    }
  }

  /**
   * A member's device stops reading while the others chat in large messages. Its node tells it to
   * reconnect as a slow consumer and then cuts it off (its buffer is bounded); nobody else waits
   * for it; what it had received before is in order, and nothing is lost to it (history holds all).
   */
  @Test
  @Order(6)
  void aDeviceThatNeverReadsIsCutOffAndNobodyWaitsForIt() throws Exception {
    // Bodies near the 4,000-character limit, fast: the stalled device's TCP buffers (some MB)
    // and then its 256-frame outbound buffer fill within a minute.
    try (ChatChecker checker = ChatChecker.start(nodes, "slow", 1, 3, 20, 3_500)) {
      String conversation = checker.conversations().get(0);
      String stalled = "stalled-" + UUID.randomUUID().toString().substring(0, 6);
      Api.Response added =
          Api.post(
              nodes.httpPort(0),
              "/api/conversations/" + conversation + "/members",
              TestCluster.token(checker.clients().get(0).user),
              Json.write(Map.of("userId", stalled)));
      assertEquals(200, added.status(), added.body()::toString);
      try (WsClient device = WsClient.connect(nodes.httpPort(1), TestCluster.token(stalled), "d")) {
        device.pauseReading();
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> registeredDevices(stalled) == 0); // cut off, and its entry removed
        checker.awaitProgress(); // the others were not held up
        checker.finish("a device that never reads");
        device.resumeReading();
        checkStalledDevice(device, checker.history(conversation));
      }
    }
  }

  /** What the stalled device did receive came once each, in seq order, as history holds it. */
  private static void checkStalledDevice(WsClient device, Map<Long, String> history) {
    long last = 0;
    int pushed = 0;
    for (JsonNode frame = device.poll(Duration.ofSeconds(5));
        frame != null;
        frame = device.poll(Duration.ofSeconds(5))) {
      if (frame.path("type").asText().equals("message")) {
        long seq = frame.path("seq").asLong();
        assertTrue(seq > last, "seq " + seq + " after " + last);
        assertEquals(history.get(seq), frame.path("idempotencyKey").asText());
        last = seq;
        pushed++;
      }
    }
    System.out.printf(
        "slow consumer: read %d pushes (up to seq %d of %d) after it was cut off%n",
        pushed, last, history.size());
    assertTrue(pushed > 0, "it had been pushed messages before it was cut off");
  }

  private long registeredDevices(String user) {
    return redis(commands -> commands.hlen("conn:" + user));
  }

  private <T> T redis(Function<RedisCommands<String, String>, T> query) {
    return query.apply(redis.sync());
  }

  private static void checkReconnectsSpread(
      List<ChatClient> clients, List<NodeSet.Stopped> drains) {
    for (NodeSet.Stopped drain : drains) {
      List<Instant> told =
          clients.stream()
              .flatMap(client -> client.reconnects.stream())
              .filter(at -> !at.isBefore(drain.signalled()) && !at.isAfter(drain.exited()))
              .sorted()
              .toList();
      assertTrue(told.size() >= 2, "clients of the drained node were told to reconnect: " + told);
      Duration spread = Duration.between(told.get(0), told.get(told.size() - 1));
      System.out.printf(
          "drain: %d clients told to reconnect over %d ms; SIGTERM to exit %d ms%n",
          told.size(), spread.toMillis(), drain.took().toMillis());
      // n sessions leave evenly spaced: the first and last are (n-1)/n of the window apart; a
      // third of that allows for a loaded machine's delays.
      Duration evenly = NodeSet.DRAIN_SPREAD.multipliedBy(told.size() - 1).dividedBy(told.size());
      assertTrue(
          spread.compareTo(evenly.dividedBy(3)) >= 0,
          "reconnects spread over the drain window, not all at once: " + spread);
    }
  }
}
