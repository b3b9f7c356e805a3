package io.parley.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BlockingBucket;
import io.github.bucket4j.Bucket;
import io.parley.devstack.LocalStack;
import io.parley.devstack.NodeProcess;
import io.parley.devstack.StackOptions;
import io.parley.testing.Api;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import io.parley.testing.TestNodes;
import io.parley.testing.WsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deploy: three node processes, each sent SIGTERM in turn and replaced, while clients send
 * without pause and retry with their idempotency keys. Nothing acked is lost or doubled, every
 * client finds a new node, and each drain spreads its clients' reconnects over time.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class RollingRestartIntegrationTest {

  private static final int NODES = 3;
  private static final int CLIENTS_PER_NODE = 6;
  private static final int SENDS_PER_SECOND = 2;
  private static final Duration READY = Duration.ofMinutes(3);
  private static final Map<String, String> NODE_ENV =
      Map.of(
          "CHAT_JWT_SECRET", TestNodes.JWT_SECRET,
          "PARLEY_DRAIN_READINESS_DELAY", "1s",
          "PARLEY_DRAIN_SPREAD", "3s",
          "PARLEY_SEND_RATE", "1000",
          "PARLEY_SBR_STABLE_AFTER", "5s",
          // As in production, nodes do not create the schema (the first one here does); and on two
          // cores shared with the whole stack, a quick JIT lets a replacement start in time.
          "PARLEY_CASSANDRA_CREATE_SCHEMA", "false",
          "JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1");

  /** The nodes clients may connect to; replaced in place as the roll goes. */
  private final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();

  @Test
  void aRollingRestartLosesNothingAndDoublesNothing(LocalStack stack) throws Exception {
    Path projectDir = StackOptions.defaults().projectDir();
    Path logs = Files.createDirectories(projectDir.resolve("target/rolling-restart"));
    String classpath = NodeProcess.classpath(projectDir);
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      Map<String, String> env = new HashMap<>(NODE_ENV);
      env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", Boolean.toString(i == 0));
      NodeProcess node =
          NodeProcess.start(stack, classpath, 0, seeds, env, logs.resolve("node-" + i + ".log"));
      nodes.add(node);
      seeds.add(node.address());
      if (i == 0) {
        node.awaitReady(READY); // the first node creates the schema alone
      }
    }
    ExecutorService threads = Executors.newCachedThreadPool();
    List<Chatter> chatters = new ArrayList<>();
    try {
      for (NodeProcess node : nodes) {
        node.awaitReady(READY);
      }
      for (int i = 0; i < NODES * CLIENTS_PER_NODE; i += 2) {
        String alice = "roll-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
        String bob = "roll-" + (i + 1) + "-" + UUID.randomUUID().toString().substring(0, 6);
        String conversation = Api.createConversation(nodes.get(0).httpPort(), alice, bob);
        chatters.add(new Chatter(alice, conversation, i % NODES));
        chatters.add(new Chatter(bob, conversation, (i + 1) % NODES));
      }
      List<Future<?>> running = new ArrayList<>();
      for (Chatter chatter : chatters) {
        chatter.connect();
        running.add(threads.submit(chatter));
      }
      awaitProgress(chatters);

      List<Drain> drains = new ArrayList<>();
      for (int i = 0; i < NODES; i++) {
        drains.add(roll(stack, classpath, i, logs));
        awaitProgress(chatters);
      }

      chatters.forEach(Chatter::stop);
      for (Future<?> future : running) {
        future.get(3, TimeUnit.MINUTES); // an assertion failure inside a client surfaces here
      }
      checkReconnects(chatters, drains);
      checkHistory(chatters);
    } finally {
      chatters.forEach(Chatter::close);
      threads.shutdownNow();
      nodes.forEach(NodeProcess::stop);
    }
  }

  /** When a node was told to stop and when it had exited. */
  private record Drain(Instant signalled, Instant exited) {}

  /** SIGTERM to node {@code index}, then a new node in its place once the old one is gone. */
  private Drain roll(LocalStack stack, String classpath, int index, Path logs) throws Exception {
    NodeProcess old = nodes.get(index);
    Instant signalled = Instant.now();
    int exit = old.stop();
    assertTrue(exit != -1, "node " + index + " drained and exited in time; see " + old.log());
    Instant exited = Instant.now();
    List<String> seeds = nodes.stream().filter(n -> n != old).map(NodeProcess::address).toList();
    NodeProcess replacement =
        NodeProcess.start(
            stack, classpath, 0, seeds, NODE_ENV, logs.resolve("node-" + index + "-new.log"));
    nodes.set(index, replacement);
    replacement.awaitReady(READY);
    return new Drain(signalled, exited);
  }

  /** Every client gets at least one more ack: the cluster serves everyone again. */
  private static void awaitProgress(List<Chatter> chatters) {
    Map<Chatter, Integer> before = new HashMap<>();
    chatters.forEach(chatter -> before.put(chatter, chatter.acked.size()));
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> chatters.stream().allMatch(c -> c.acked.size() > before.get(c)));
  }

  private static void checkReconnects(List<Chatter> chatters, List<Drain> drains) {
    for (Chatter chatter : chatters) {
      assertTrue(!chatter.reconnects.isEmpty(), chatter.user + " was told to reconnect and did");
    }
    for (Drain drain : drains) {
      List<Instant> told =
          chatters.stream()
              .flatMap(chatter -> chatter.reconnects.stream())
              .filter(at -> !at.isBefore(drain.signalled()) && !at.isAfter(drain.exited()))
              .sorted()
              .toList();
      assertTrue(told.size() >= 2, "clients of the drained node were told to reconnect: " + told);
      Duration spread = Duration.between(told.get(0), told.get(told.size() - 1));
      System.out.printf(
          "drain: %d clients told to reconnect over %d ms; SIGTERM to exit %d ms%n",
          told.size(),
          spread.toMillis(),
          Duration.between(drain.signalled(), drain.exited()).toMillis());
      assertTrue(
          spread.compareTo(Duration.ofMillis(500)) >= 0,
          "reconnects spread over the drain window, not all at once: " + spread);
    }
  }

  /** History holds every acked message once, at its acked seq, in strictly increasing seq. */
  private void checkHistory(List<Chatter> chatters) {
    Map<String, Map<String, Long>> ackedByConversation = new HashMap<>();
    for (Chatter chatter : chatters) {
      ackedByConversation
          .computeIfAbsent(chatter.conversation, c -> new HashMap<>())
          .putAll(chatter.acked);
    }
    int total = 0;
    for (Chatter chatter : chatters) {
      Map<String, Long> acked = ackedByConversation.get(chatter.conversation);
      await()
          .atMost(Duration.ofMinutes(2))
          .untilAsserted(() -> assertEquals(acked, history(chatter), "every ack in history"));
      total += chatter.acked.size();
    }
    System.out.printf(
        "rolling restart: %d messages acked by %d clients, none lost or doubled%n",
        total, chatters.size());
  }

  /** Idempotency key → seq of the conversation's history; fails on a doubled key or seq order. */
  private Map<String, Long> history(Chatter chatter) {
    Map<String, Long> seqByKey = new HashMap<>();
    long after = 0;
    boolean more = true;
    while (more) {
      Api.Response page =
          Api.get(
              nodes.get(0).httpPort(),
              "/api/conversations/"
                  + chatter.conversation
                  + "/messages?afterSeq="
                  + after
                  + "&limit=500",
              TestCluster.token(chatter.user));
      assertEquals(200, page.status(), page.body()::toString);
      for (JsonNode message : page.body().path("messages")) {
        long seq = message.path("seq").asLong();
        assertTrue(seq > after, "seq strictly increases: " + seq + " after " + after);
        after = seq;
        Long doubled = seqByKey.put(message.path("idempotencyKey").asText(), seq);
        assertEquals(null, doubled, "a message stored twice: " + message);
      }
      more = page.body().path("hasMore").asBoolean();
    }
    return seqByKey;
  }

  /** One client: sends without pause, waits for each ack, and on reconnect retries the same key. */
  private final class Chatter implements Runnable {
    final String user;
    final String conversation;
    final Map<String, Long> acked = new ConcurrentHashMap<>();
    final List<Instant> reconnects = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stopped = new AtomicBoolean();

    /** A steady load that leaves the two cores room to start the replacement nodes. */
    private final BlockingBucket pace =
        Bucket.builder()
            .addLimit(
                Bandwidth.builder()
                    .capacity(1)
                    .refillGreedy(SENDS_PER_SECOND, Duration.ofSeconds(1))
                    .build())
            .build()
            .asBlocking();

    private int nodeIndex;
    private WsClient socket;

    Chatter(String user, String conversation, int nodeIndex) {
      this.user = user;
      this.conversation = conversation;
      this.nodeIndex = nodeIndex;
    }

    void stop() {
      stopped.set(true);
    }

    void close() {
      if (socket != null) {
        socket.abort();
      }
    }

    @Override
    public void run() {
      int sent = 0;
      while (!stopped.get()) {
        pace.consumeUninterruptibly(1);
        sendUntilAcked(UUID.randomUUID().toString(), user + " " + ++sent);
      }
    }

    private void sendUntilAcked(String key, String body) {
      Instant giveUp = Instant.now().plus(Duration.ofMinutes(2));
      Map<String, Object> frame =
          Map.of(
              "type", "send",
              "conversationId", conversation,
              "idempotencyKey", key,
              "body", body);
      while (Instant.now().isBefore(giveUp)) {
        try {
          socket.send(frame);
        } catch (RuntimeException socketGone) {
          connect();
          continue;
        }
        if (awaitAck(key)) {
          return;
        }
      }
      throw new AssertionError(user + " got no ack for " + key + " within 2 minutes");
    }

    /** True once acked; false when the send must go again (after a reconnect if one is due). */
    private boolean awaitAck(String key) {
      Instant resend = Instant.now().plusSeconds(15);
      while (Instant.now().isBefore(resend)) {
        JsonNode frame = socket.poll(Duration.ofMillis(500));
        if (frame == null) {
          if (socket.closed().isDone()) {
            connect();
            return false;
          }
          continue;
        }
        String type = frame.path("type").asText();
        if (type.equals("ack") && frame.path("idempotencyKey").asText().equals(key)) {
          acked.put(key, frame.path("seq").asLong());
          return true;
        }
        if (type.equals("reconnect")) {
          connect();
          return false;
        }
        // messages from the other member, and `unavailable` while a node drains: keep reading
      }
      return false;
    }

    /** To the next node that accepts the upgrade (a draining one answers 503). */
    void connect() {
      if (socket != null) {
        if (socket.reconnectAt() != null) {
          reconnects.add(socket.reconnectAt()); // told, whether or not the frame was read yet
        }
        socket.abort();
      }
      Instant giveUp = Instant.now().plus(Duration.ofMinutes(2));
      while (Instant.now().isBefore(giveUp)) {
        nodeIndex = (nodeIndex + 1) % NODES;
        try {
          socket =
              WsClient.connect(nodes.get(nodeIndex).httpPort(), TestCluster.token(user), "device");
          return;
        } catch (RuntimeException | AssertionError refused) {
          // that node is draining or restarting: try the next
        }
      }
      throw new AssertionError(user + " found no node to reconnect to");
    }
  }
}
