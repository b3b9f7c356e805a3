package io.parley.bench;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.auth.JwtIssuer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Scenario (e), the send path (issue #13): {@code clients} WebSocket clients in conversations of
 * {@code members} (2: 1:1), each conversation's members spread over the nodes, every client sending
 * in turn at one total rate per step. Open loop: sends leave on a fixed schedule whatever the
 * server answers, and every latency counts from the send's scheduled time, not from when it left,
 * so a stalled server or load generator shows in the figures (no coordinated omission).
 *
 * <p>A step is a warm-up (sent, not counted) and a measured window: sends scheduled in the window
 * are tracked by idempotency key until their ack (or error) and their {@code message} at each other
 * member, for at most the drain wait after the window; what is still missing then is lost. The
 * processes' CPU and the nodes' GC pauses are read at the window's two ends.
 */
final class SendPath implements AutoCloseable {

  private static final int CONNECTS_AT_ONCE = 64;
  private static final int CREATES_AT_ONCE = 8;

  private record Pending(
      long scheduledNanos, int sender, AtomicInteger deliveries, AtomicBoolean answered) {}

  /** What one step's frames are counted into; frames of other steps find no key in it. */
  private static final class Window {
    final Map<String, Pending> pending = new ConcurrentHashMap<>();
    final Histogram acks = new ConcurrentHistogram(3);
    final Histogram deliveries = new ConcurrentHistogram(3);
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final LongAdder answered = new LongAdder();
    final LongAdder errored = new LongAdder();
    final LongAdder seen = new LongAdder();
    final LongAdder doubled = new LongAdder();
    final AtomicLong maxLagNanos = new AtomicLong();
    long sent;

    void error(String code) {
      errors.computeIfAbsent(code, c -> new LongAdder()).increment();
    }
  }

  private final int members;
  private final String body;
  private final List<LoadClient> clients = new ArrayList<>();
  private final List<String> conversationOf = new ArrayList<>();
  private final List<Integer> order = new ArrayList<>();
  private long cursor;
  private volatile Window current;

  private SendPath(int members, int bodyChars) {
    this.members = members;
    this.body = "x".repeat(bodyChars);
  }

  /**
   * Connects {@code clients / members} conversations' members (client i on node i mod nodes, so a
   * conversation's members alternate between nodes) and creates the conversations.
   */
  static SendPath open(
      ActorSystem<?> system,
      LoadGen.Target target,
      JwtIssuer tokens,
      IntFunction<String> source,
      int clients,
      int members,
      int bodyChars)
      throws Exception {
    SendPath path = new SendPath(members, bodyChars);
    int conversations = clients / members;
    String run = UUID.randomUUID().toString().substring(0, 6);
    List<List<String>> users = new ArrayList<>();
    for (int c = 0; c < conversations; c++) {
      List<String> group = new ArrayList<>();
      for (int m = 0; m < members; m++) {
        group.add("s" + members + "-" + c + "-" + m + "-" + run);
      }
      users.add(group);
    }
    path.connect(system, target, tokens, source, users.stream().flatMap(List::stream).toList());
    path.create(target, users);
    // Every client in turn, and consecutive sends in different conversations: member 0 of each
    // conversation, then member 1 of each, and so on.
    for (int m = 0; m < members; m++) {
      for (int c = 0; c < conversations; c++) {
        path.order.add(c * members + m);
      }
    }
    return path;
  }

  int clients() {
    return clients.size();
  }

  private void connect(
      ActorSystem<?> system,
      LoadGen.Target target,
      JwtIssuer tokens,
      IntFunction<String> source,
      List<String> users)
      throws Exception {
    for (int from = 0; from < users.size(); from += CONNECTS_AT_ONCE) {
      List<CompletableFuture<LoadClient>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(users.size(), from + CONNECTS_AT_ONCE); i++) {
        int index = i;
        batch.add(
            LoadClient.connect(
                    system,
                    target.uri(index, users.get(index), tokens),
                    source.apply(index),
                    frame -> onFrame(index, frame))
                .toCompletableFuture());
      }
      for (CompletableFuture<LoadClient> client : batch) {
        clients.add(client.get(60, TimeUnit.SECONDS));
      }
    }
  }

  private void create(LoadGen.Target target, List<List<String>> users) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(CREATES_AT_ONCE);
    try {
      List<CompletableFuture<String>> created =
          users.stream()
              .map(group -> CompletableFuture.supplyAsync(() -> target.create(group), pool))
              .toList();
      for (CompletableFuture<String> id : created) {
        String conversationId = id.get(60, TimeUnit.SECONDS);
        for (int m = 0; m < members; m++) {
          conversationOf.add(conversationId);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private void onFrame(int client, JsonNode frame) {
    Window window = current;
    if (window == null) {
      return;
    }
    String type = frame.path("type").asText();
    if (type.equals("reconnect")) {
      window.error("reconnect " + frame.path("reason").asText());
      return;
    }
    String key = frame.path(type.equals("error") ? "ref" : "idempotencyKey").asText();
    Pending sent = window.pending.get(key);
    if (sent == null) {
      if (type.equals("error") && key.isEmpty()) {
        window.error(frame.path("code").asText() + " (no ref)");
      }
      return; // a warm-up send's, or another step's
    }
    switch (type) {
      case "ack" -> answer(window, sent, () -> window.acks.recordValue(micros(sent)));
      case "error" -> answer(window, sent, () -> countError(window, frame.path("code").asText()));
      case "message" -> delivered(window, sent, client);
      default -> {}
    }
  }

  private static void answer(Window window, Pending sent, Runnable count) {
    if (sent.answered().compareAndSet(false, true)) {
      window.answered.increment();
      count.run();
    }
  }

  private static void countError(Window window, String code) {
    window.errored.increment();
    window.error(code);
  }

  private void delivered(Window window, Pending sent, int client) {
    if (client == sent.sender()) {
      return; // the protocol pushes to the sender's other devices only; it has none
    }
    if (sent.deliveries().incrementAndGet() <= members - 1) {
      window.deliveries.recordValue(micros(sent));
      window.seen.increment();
    } else {
      window.doubled.increment();
    }
  }

  private static long micros(Pending sent) {
    return Math.max(0, (System.nanoTime() - sent.scheduledNanos()) / 1000);
  }

  /**
   * Unmeasured sends at {@code rate} for {@code duration}, before the first step: the nodes' JIT
   * compilers take minutes of CPU on a fresh JVM (2 cores: most of a step's CPU in its first
   * minutes), which is a deploy's cost, not a message's.
   */
  void warmUp(int rate, Duration duration) throws InterruptedException {
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    long end = start + duration.toNanos();
    Window uncounted = new Window();
    current = uncounted;
    sendOnSchedule(rate, start, end, end, uncounted);
  }

  /**
   * One step at {@code rate} sends a second: {@code warmup}, then {@code window} measured, then up
   * to {@code drain} for the window's answers. {@code profile}, if not null, records node 1 from
   * the warm-up to the window's end.
   */
  SendPathStep step(
      int rate,
      Duration warmup,
      Duration window,
      Duration drain,
      ProcessCpu cpu,
      List<GcLog> gcLogs,
      NodeProfile profile)
      throws Exception {
    Window counted = new Window();
    current = counted;
    if (profile != null) {
      profile.start();
    }
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    long windowStart = start + warmup.toNanos();
    long end = windowStart + window.toNanos();
    Thread sender = new Thread(() -> sendOnSchedule(rate, start, windowStart, end, counted));
    sender.setName("send-path-schedule");
    sender.start();
    parkUntil(windowStart);
    Map<String, Double> cpuBefore = cpu.snapshot();
    double stalledBefore = Machine.cpuStalledSeconds();
    for (GcLog log : gcLogs) {
      log.mark();
    }
    parkUntil(end);
    Map<String, Double> cpuSpent = ProcessCpu.since(cpuBefore, cpu.snapshot());
    double stalled = Machine.cpuStalledSeconds() - stalledBefore;
    List<GcLog.Pauses> pauses = new ArrayList<>();
    for (GcLog log : gcLogs) {
      pauses.add(log.pausesSinceMark());
    }
    sender.join();
    if (profile != null) {
      profile.stop();
    }
    awaitAnswers(counted, drain);
    current = null;
    return result(counted, rate, cpuSpent, window, pauses, stalled);
  }

  /** The schedule: send i leaves at start + i / rate; only the window's sends are tracked. */
  private void sendOnSchedule(int rate, long start, long windowStart, long end, Window window) {
    for (long i = 0; ; i++) {
      long at = start + i * 1_000_000_000L / rate;
      if (at >= end) {
        return;
      }
      parkUntil(at);
      int client = order.get((int) (cursor++ % order.size()));
      String key = UUID.randomUUID().toString(); // the protocol wants a UUID
      Pending pending = null;
      if (at >= windowStart) {
        pending = new Pending(at, client, new AtomicInteger(), new AtomicBoolean());
        window.pending.put(key, pending);
        window.sent++;
        window.maxLagNanos.accumulateAndGet(System.nanoTime() - at, Math::max);
      }
      boolean queued =
          clients
              .get(client)
              .send(
                  Map.of(
                      "type",
                      "send",
                      "conversationId",
                      conversationOf.get(client),
                      "idempotencyKey",
                      key,
                      "body",
                      body));
      if (!queued && pending != null) {
        answer(window, pending, () -> countError(window, "client_buffer_full"));
      }
    }
  }

  private static void parkUntil(long nanos) {
    for (long wait = nanos - System.nanoTime(); wait > 0; wait = nanos - System.nanoTime()) {
      LockSupport.parkNanos(wait);
    }
  }

  private void awaitAnswers(Window window, Duration drain) {
    long perSend = members - 1;
    try {
      await()
          .atMost(drain)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  window.answered.sum() >= window.sent
                      && window.seen.sum() + window.errored.sum() * perSend
                          >= window.sent * perSend);
    } catch (ConditionTimeoutException stragglers) {
      // reported: acked < sent, or deliveries lost
    }
  }

  private SendPathStep result(
      Window window,
      int rate,
      Map<String, Double> cpuSpent,
      Duration measured,
      List<GcLog.Pauses> pauses,
      double stalledSeconds) {
    long expected = window.sent * (members - 1);
    long seen = window.seen.sum();
    Map<String, Long> errors = new TreeMap<>();
    window.errors.forEach((code, count) -> errors.put(code, count.sum()));
    double seconds = measured.toNanos() / 1e9;
    return new SendPathStep(
        members,
        rate,
        clients.size(),
        window.sent,
        window.acks.getTotalCount(),
        millis(window.acks, 50),
        millis(window.acks, 99),
        millis(window.acks, 99.9),
        millis(window.deliveries, 50),
        millis(window.deliveries, 99),
        millis(window.deliveries, 99.9),
        expected,
        seen,
        expected - seen,
        window.doubled.sum(),
        errors,
        cpuSpent,
        seconds,
        pauses,
        window.maxLagNanos.get() / 1e6,
        100 * stalledSeconds / seconds);
  }

  private static double millis(Histogram histogram, double percentile) {
    return histogram.getTotalCount() == 0
        ? Double.NaN
        : histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  @Override
  public void close() {
    clients.forEach(LoadClient::close);
  }

  /** A JFR recording of one node JVM (jcmd), from {@link #start} to {@link #stop}. */
  record NodeProfile(long pid, Path file) {
    void start() throws IOException, InterruptedException {
      jcmd("JFR.start", "name=send-path", "settings=profile", "filename=" + file);
    }

    void stop() throws IOException, InterruptedException {
      jcmd("JFR.stop", "name=send-path");
      System.out.println("JFR of node 1 written to " + file);
    }

    private void jcmd(String... command) throws IOException, InterruptedException {
      List<String> line = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
      line.addAll(List.of(command));
      Process jcmd = new ProcessBuilder(line).redirectErrorStream(true).start();
      String output = new String(jcmd.getInputStream().readAllBytes());
      if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
        throw new IOException(String.join(" ", line) + " failed: " + output);
      }
    }
  }
}
