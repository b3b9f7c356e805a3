package io.parley.checker;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BlockingBucket;
import io.github.bucket4j.Bucket;
import io.parley.testing.TestCluster;
import io.parley.testing.WsClient;
import io.parley.testing.contract.ContractViolation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One device of the checker. It sends without pause into its conversation, waits for each ack, and
 * resends the same idempotency key after an error, a silence or a reconnect, the way a real client
 * must. It records every ack and every message pushed to it, for the checker to judge.
 */
final class ChatClient implements Runnable {

  /** A message pushed to this device, in arrival order. */
  record Delivery(String conversationId, long seq, String idempotencyKey) {}

  private static final Duration GIVE_UP = Duration.ofMinutes(3);
  private static final Duration SILENCE_BEFORE_RESEND = Duration.ofSeconds(15);
  private static final Duration BACKOFF_AFTER_ERROR = Duration.ofMillis(500);
  private static final Set<String> RETRYABLE = Set.of("unavailable", "rate_limited");

  final String user;
  final String conversation;
  final Map<String, Long> acked = new ConcurrentHashMap<>();
  final List<Instant> ackTimes = new CopyOnWriteArrayList<>();
  final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

  /** Keys acked twice with different seqs: a broken promise of the dedup. */
  final List<String> conflictingAcks = new CopyOnWriteArrayList<>();

  final List<Instant> reconnects = new CopyOnWriteArrayList<>();
  final AtomicInteger resends = new AtomicInteger();

  /** The longest a message of this client waited for its ack, retries included. */
  volatile Duration slowestAck = Duration.ZERO;

  final Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();

  private final NodeSet nodes;
  private final String body;
  private final BlockingBucket pace;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private int nodeIndex;
  private volatile WsClient socket;

  ChatClient(
      String user,
      String conversation,
      NodeSet nodes,
      int nodeIndex,
      int sendsPerSecond,
      int bodyBytes) {
    this.user = user;
    this.conversation = conversation;
    this.nodes = nodes;
    this.nodeIndex = nodeIndex;
    this.body = "x".repeat(bodyBytes);
    this.pace =
        Bucket.builder()
            .addLimit(
                Bandwidth.builder()
                    .capacity(1)
                    .refillGreedy(sendsPerSecond, Duration.ofSeconds(1))
                    .build())
            .build()
            .asBlocking();
  }

  /** Connects to its first node (before the run starts, so a fault finds it connected). */
  void connectFirst() {
    nodeIndex = (nodeIndex + nodes.size() - 1) % nodes.size();
    connect();
  }

  void stop() {
    stopped.set(true);
  }

  void close() {
    if (socket != null) {
      socket.abort();
    }
  }

  int ackCount() {
    return acked.size();
  }

  @Override
  public void run() {
    int sent = 0;
    while (!stopped.get()) {
      pace.consumeUninterruptibly(1);
      sendUntilAcked(UUID.randomUUID().toString(), user + " " + ++sent + " " + body);
    }
  }

  private void sendUntilAcked(String key, String text) {
    Instant began = Instant.now();
    Instant giveUp = began.plus(GIVE_UP);
    Map<String, Object> frame =
        Map.of("type", "send", "conversationId", conversation, "idempotencyKey", key, "body", text);
    boolean first = true;
    while (Instant.now().isBefore(giveUp)) {
      if (!first) {
        resends.incrementAndGet();
      }
      first = false;
      try {
        socket.send(frame);
      } catch (RuntimeException socketGone) {
        connect();
        continue;
      }
      if (awaitAck(key)) {
        Duration waited = Duration.between(began, Instant.now());
        if (waited.compareTo(slowestAck) > 0) {
          slowestAck = waited;
        }
        return;
      }
    }
    throw new AssertionError(user + " got no ack for " + key + " within " + GIVE_UP);
  }

  /** True once acked; false when the send must go again (after a reconnect if one is due). */
  private boolean awaitAck(String key) {
    Instant resend = Instant.now().plus(SILENCE_BEFORE_RESEND);
    while (Instant.now().isBefore(resend)) {
      JsonNode frame = socket.poll(Duration.ofMillis(500));
      if (frame == null) {
        if (socket.closed().isDone()) {
          connect();
          return false;
        }
        continue;
      }
      switch (frame.path("type").asText()) {
        case "ack" -> {
          if (frame.path("idempotencyKey").asText().equals(key)) {
            recordAck(key, frame.path("seq").asLong());
            return true;
          }
        }
        case "message" -> recordDelivery(frame);
        case "reconnect" -> {
          connect();
          return false;
        }
        case "error" -> {
          String code = frame.path("code").asText();
          errors.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
          if (!RETRYABLE.contains(code)) {
            throw new AssertionError(user + " was refused for good: " + frame);
          }
          if (key.equals(frame.path("ref").asText())) {
            // A client's backoff: keep reading (pushes still come), resend when it is over.
            resend = Instant.now().plus(BACKOFF_AFTER_ERROR);
          }
        }
        default -> {
          // presence and receipts are not this checker's business
        }
      }
    }
    return false;
  }

  private void recordAck(String key, long seq) {
    Long earlier = acked.putIfAbsent(key, seq);
    if (earlier != null && earlier != seq) {
      conflictingAcks.add(key + " acked as " + earlier + " and " + seq);
    }
    ackTimes.add(Instant.now());
  }

  private void recordDelivery(JsonNode frame) {
    deliveries.add(
        new Delivery(
            frame.path("conversationId").asText(),
            frame.path("seq").asLong(),
            frame.path("idempotencyKey").asText()));
  }

  /** To the next node that accepts the upgrade (a draining or dead one refuses). */
  private void connect() {
    if (socket != null) {
      if (socket.reconnectAt() != null) {
        reconnects.add(socket.reconnectAt()); // told, whether or not the frame was read yet
      }
      socket.abort();
    }
    await(user + " found a node to connect to")
        .atMost(GIVE_UP)
        .pollInSameThread()
        .pollDelay(Duration.ZERO)
        .pollInterval(BACKOFF_AFTER_ERROR) // a client's backoff between refused attempts
        .until(this::connectToNextNode);
  }

  /** False when that node refuses: it is draining, dead or restarting. */
  private boolean connectToNextNode() {
    nodeIndex = (nodeIndex + 1) % nodes.size();
    try {
      socket = WsClient.connect(nodes.httpPort(nodeIndex), TestCluster.token(user), "device");
      return true;
    } catch (ContractViolation broken) {
      throw broken; // the server answered, wrongly: no other node will make that right
    } catch (RuntimeException | AssertionError refused) {
      return false;
    }
  }
}
