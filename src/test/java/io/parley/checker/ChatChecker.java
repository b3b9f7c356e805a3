package io.parley.checker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.devstack.StackOptions;
import io.parley.testing.Api;
import io.parley.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A Jepsen-style checker for chat: clients send without pause with idempotency keys and retries
 * while a fault is injected, recording every ack and every push; then the history is read back and
 * judged. The invariants (docs/reliability.md):
 *
 * <ul>
 *   <li>no acked message is lost: history holds each acked key at exactly its acked seq;
 *   <li>nothing is stored twice: no idempotency key appears at two seqs;
 *   <li>seq strictly increases in every conversation's history;
 *   <li>no device gets a message pushed twice, and every device gets its pushes in increasing seq;
 *   <li>every member sees the same order: each push matches history's message at that seq.
 * </ul>
 */
final class ChatChecker implements AutoCloseable {

  /** The figures of one run, printed and appended to target/checker/figures.md. */
  record Figures(
      String fault,
      int clients,
      int acked,
      int resends,
      Map<String, Integer> errors,
      int reconnects,
      long pushed,
      long pushable,
      Duration longestAckGap,
      Duration slowestAck) {

    String row() {
      return String.format(
          "| %s | %d | %d | 0 | 0 | %d | %s | %d | %d / %d (%.1f%%) | %.1f s | %.1f s |",
          fault,
          clients,
          acked,
          resends,
          errors.isEmpty() ? "none" : errors.toString(),
          reconnects,
          pushed,
          pushable,
          pushable == 0 ? 0.0 : 100.0 * pushed / pushable,
          longestAckGap.toMillis() / 1000.0,
          slowestAck.toMillis() / 1000.0);
    }
  }

  private static final Duration HISTORY_CATCH_UP = Duration.ofMinutes(3);

  private final NodeSet nodes;
  private final List<ChatClient> clients = new ArrayList<>();
  private final Map<String, List<ChatClient>> members = new LinkedHashMap<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<Future<?>> running = new ArrayList<>();
  private Instant started;

  private ChatChecker(NodeSet nodes) {
    this.nodes = nodes;
  }

  /**
   * {@code conversations} conversations of {@code size} members each, every member a device on a
   * different node than the last, each sending {@code sendsPerSecond} with bodies of {@code
   * bodyBytes}.
   */
  static ChatChecker start(
      NodeSet nodes, String name, int conversations, int size, int sendsPerSecond, int bodyBytes) {
    ChatChecker checker = new ChatChecker(nodes);
    int placed = 0;
    for (int c = 0; c < conversations; c++) {
      List<String> users = new ArrayList<>();
      for (int m = 0; m < size; m++) {
        users.add(name + "-" + c + "-" + m + "-" + UUID.randomUUID().toString().substring(0, 6));
      }
      String conversation =
          Api.createConversation(
              nodes.httpPort(0),
              users.get(0),
              users.subList(1, users.size()).toArray(String[]::new));
      for (String user : users) {
        ChatClient client =
            new ChatClient(
                user, conversation, nodes, placed++ % nodes.size(), sendsPerSecond, bodyBytes);
        checker.clients.add(client);
        checker.members.computeIfAbsent(conversation, k -> new ArrayList<>()).add(client);
      }
    }
    checker.clients.forEach(ChatClient::connectFirst);
    checker.started = Instant.now();
    checker.clients.forEach(client -> checker.running.add(checker.threads.submit(client)));
    return checker;
  }

  List<ChatClient> clients() {
    return clients;
  }

  /** The conversations of this run, in creation order. */
  List<String> conversations() {
    return List.copyOf(members.keySet());
  }

  /** A conversation's history as seq → idempotency key, checked for doubles and order. */
  Map<Long, String> history(String conversation) {
    return history(conversation, members.get(conversation).get(0).user);
  }

  /**
   * Every client gets at least one more ack and one more push: the cluster serves everyone (again)
   * and routes to everyone (again).
   */
  void awaitProgress() {
    Map<ChatClient, Integer> acks = new HashMap<>();
    Map<ChatClient, Integer> pushes = new HashMap<>();
    clients.forEach(client -> acks.put(client, client.ackCount()));
    clients.forEach(client -> pushes.put(client, client.deliveries.size()));
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () ->
                clients.stream()
                    .allMatch(
                        c -> c.ackCount() > acks.get(c) && c.deliveries.size() > pushes.get(c)));
  }

  /** Stops the clients and judges what they recorded against the history. */
  Figures finish(String fault) throws Exception {
    Instant stoppedAt = Instant.now();
    clients.forEach(ChatClient::stop);
    for (Future<?> future : running) {
      future.get(4, TimeUnit.MINUTES); // an assertion failure inside a client surfaces here
    }
    long pushed = 0;
    long pushable = 0;
    for (Map.Entry<String, List<ChatClient>> conversation : members.entrySet()) {
      Map<Long, String> history = awaitHistory(conversation.getKey(), conversation.getValue());
      for (ChatClient client : conversation.getValue()) {
        checkAcks(client, history);
        pushed += checkPushes(client, history);
        pushable += history.size() - client.acked.size();
      }
    }
    Figures figures =
        new Figures(
            fault,
            clients.size(),
            clients.stream().mapToInt(ChatClient::ackCount).sum(),
            clients.stream().mapToInt(c -> c.resends.get()).sum(),
            errorCounts(),
            clients.stream().mapToInt(c -> c.reconnects.size()).sum(),
            pushed,
            pushable,
            longestAckGap(stoppedAt),
            clients.stream().map(c -> c.slowestAck).max(Duration::compareTo).orElseThrow());
    report(figures);
    return figures;
  }

  /**
   * The conversation's history (seq → idempotency key) once it holds every acked message; fails on
   * a key stored twice or a seq out of order.
   */
  private Map<Long, String> awaitHistory(String conversation, List<ChatClient> devices) {
    Map<String, Long> acked = new HashMap<>();
    devices.forEach(device -> acked.putAll(device.acked));
    List<Map<Long, String>> last = new ArrayList<>(List.of(Map.of()));
    await()
        .atMost(HISTORY_CATCH_UP)
        .untilAsserted(
            () -> {
              Map<Long, String> history = history(conversation, devices.get(0).user);
              last.set(0, history);
              Map<String, Long> stored = new HashMap<>();
              history.forEach((seq, key) -> stored.put(key, seq));
              for (Map.Entry<String, Long> ack : acked.entrySet()) {
                assertEquals(
                    ack.getValue(),
                    stored.get(ack.getKey()),
                    "acked message " + ack.getKey() + " is in history at its acked seq");
              }
            });
    return last.get(0);
  }

  private Map<Long, String> history(String conversation, String member) {
    Map<Long, String> seqToKey = new TreeMap<>();
    Map<String, Long> keyToSeq = new HashMap<>();
    long after = 0;
    boolean more = true;
    while (more) {
      Api.Response page =
          Api.get(
              nodes.httpPort(0),
              "/api/conversations/" + conversation + "/messages?afterSeq=" + after + "&limit=500",
              TestCluster.token(member));
      assertEquals(200, page.status(), page.body()::toString);
      for (JsonNode message : page.body().path("messages")) {
        long seq = message.path("seq").asLong();
        assertTrue(seq > after, "seq strictly increases: " + seq + " after " + after);
        after = seq;
        String key = message.path("idempotencyKey").asText();
        Long doubled = keyToSeq.put(key, seq);
        assertEquals(null, doubled, () -> "stored twice, at " + doubled + ": " + message);
        seqToKey.put(seq, key);
      }
      more = page.body().path("hasMore").asBoolean();
    }
    return seqToKey;
  }

  private static void checkAcks(ChatClient client, Map<Long, String> history) {
    assertEquals(List.of(), client.conflictingAcks, client.user + " never got two seqs for a key");
    client.acked.forEach(
        (key, seq) -> assertEquals(key, history.get(seq), client.user + "'s ack of seq " + seq));
  }

  /** Pushes come once each, in increasing seq, and agree with history; returns their count. */
  private static long checkPushes(ChatClient client, Map<Long, String> history) {
    long last = 0;
    for (ChatClient.Delivery push : client.deliveries) {
      assertEquals(client.conversation, push.conversationId());
      assertTrue(
          push.seq() > last,
          client.user + " got seq " + push.seq() + " after " + last + " (a repeat or reorder)");
      last = push.seq();
      assertEquals(
          history.get(push.seq()),
          push.idempotencyKey(),
          client.user + " was pushed seq " + push.seq() + " as history holds it");
    }
    return client.deliveries.size();
  }

  private Map<String, Integer> errorCounts() {
    Map<String, Integer> counts = new TreeMap<>();
    clients.forEach(c -> c.errors.forEach((code, n) -> counts.merge(code, n.get(), Integer::sum)));
    return counts;
  }

  /** The longest time between two acks (any client) while the run lasted: the outage seen. */
  private Duration longestAckGap(Instant stoppedAt) {
    List<Instant> times = new ArrayList<>();
    times.add(started);
    clients.forEach(client -> times.addAll(client.ackTimes));
    times.add(stoppedAt);
    times.sort(null);
    Duration longest = Duration.ZERO;
    for (int i = 1; i < times.size(); i++) {
      Duration gap = Duration.between(times.get(i - 1), times.get(i));
      if (gap.compareTo(longest) > 0) {
        longest = gap;
      }
    }
    return longest;
  }

  private static void report(Figures figures) throws Exception {
    String row = figures.row();
    System.out.println("checker: " + row);
    Path file = StackOptions.defaults().projectDir().resolve("target/checker/figures.md");
    Files.createDirectories(file.getParent());
    Files.writeString(
        file, row + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Override
  public void close() {
    clients.forEach(ChatClient::stop);
    clients.forEach(ChatClient::close);
    threads.shutdownNow();
  }
}
