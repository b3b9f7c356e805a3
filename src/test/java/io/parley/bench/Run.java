package io.parley.bench;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.auth.JwtIssuer;
import io.parley.devstack.NodeProcess;
import io.parley.testing.Api;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One measured step: connected members of some conversations, senders driven open-loop at a fixed
 * total rate (a slow server makes latencies grow, it does not slow the load), and HdrHistograms of
 * ack latency (send → ack at the sender) and delivery latency (send → message at each reader), all
 * on this JVM's clock.
 */
final class Run {

  private static final long TICK_MILLIS = 10;
  private static final Duration DRAIN = Duration.ofSeconds(10);

  private record Sender(LoadClient client, String conversationId, List<String> to) {}

  private final ActorSystem<?> system;
  private final LoadGen.Target target;
  private final IntFunction<String> source;
  private final JwtIssuer tokens;
  private final List<Sender> senders = new ArrayList<>();
  private final List<LoadClient> clients = new ArrayList<>();
  private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
  private final Histogram acks = new ConcurrentHistogram(3);
  private final Histogram deliveries = new ConcurrentHistogram(3);
  private final Map<String, Long> primedAt = new ConcurrentHashMap<>();
  private final Histogram firstAcks = new ConcurrentHistogram(3);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private double cpuSeconds;
  private double seconds;
  private double stalledSeconds;
  private NodeMetrics serverBefore;
  private NodeMetrics serverAfter;

  Run(ActorSystem<?> system, LoadGen.Target target, IntFunction<String> source, JwtIssuer tokens) {
    this.system = system;
    this.target = target;
    this.source = source;
    this.tokens = tokens;
  }

  /** Connects every member (spread over nodes and source addresses); {@code senders} will send. */
  void conversation(List<String> members, List<String> sending) throws Exception {
    String conversationId = target.create(members);
    for (String member : members) {
      int index = clients.size();
      LoadClient client =
          LoadClient.connect(
                  system, target.uri(index, member, tokens), source.apply(index), this::onFrame)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      clients.add(client);
      if (sending.contains(member)) {
        List<String> others = members.stream().filter(m -> !m.equals(member)).toList();
        senders.add(new Sender(client, conversationId, others));
      }
    }
  }

  private void onFrame(JsonNode frame) {
    String type = frame.path("type").asText();
    String key = frame.path("idempotencyKey").asText();
    Long at = sentAt.get(key);
    Long primed = primedAt.get(key);
    if (type.equals("ack") && primed != null) {
      firstAcks.recordValue(micros(primed));
    } else if (type.equals("ack") && at != null) {
      acks.recordValue(micros(at));
    } else if (type.equals("message") && at != null) {
      deliveries.recordValue(micros(at));
    } else if (LoadGen.isError(frame)) {
      errors.incrementAndGet();
    }
  }

  private static long micros(long sentNanos) {
    return Math.max(0, (System.nanoTime() - sentNanos) / 1000);
  }

  /**
   * Sends {@code rate} messages a second for {@code duration}, then waits for stragglers. Each
   * conversation's first message goes before, unmeasured: it starts the conversation's entity
   * (recovery from the journal, a seq block written), which would otherwise be 20 of the 100 sends
   * of a 5/s step. Its ack latency is reported on its own.
   */
  Run drive(int rate, Duration duration, List<NodeProcess> nodes) throws Exception {
    prime();
    double cpuBefore = cpu(nodes);
    double stalledBefore = Machine.cpuStalledSeconds();
    serverBefore = NodeMetrics.read(nodes);
    long started = System.nanoTime();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    long total = rate * duration.toSeconds();
    ticker.scheduleAtFixedRate(
        () -> sendDue(rate, started, total), 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
    ticker.awaitTermination(duration.plusSeconds(1).toMillis(), TimeUnit.MILLISECONDS);
    ticker.shutdownNow();
    try {
      await()
          .atMost(DRAIN)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> acks.getTotalCount() + refused.get() >= sent.get());
    } catch (ConditionTimeoutException stragglers) {
      // reported: acked < sent
    }
    seconds = (System.nanoTime() - started) / 1e9;
    cpuSeconds = cpu(nodes) - cpuBefore;
    stalledSeconds = Machine.cpuStalledSeconds() - stalledBefore;
    serverAfter = NodeMetrics.read(nodes);
    clients.forEach(LoadClient::close);
    return this;
  }

  /** One send per sender, all at once, and their acks awaited. */
  private void prime() {
    for (Sender sender : senders) {
      String key = UUID.randomUUID().toString(); // the protocol wants a UUID
      primedAt.put(key, System.nanoTime());
      sender.client().send(target.send(sender.conversationId(), key, sender.to()));
    }
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> firstAcks.getTotalCount() >= senders.size());
    } catch (ConditionTimeoutException slow) {
      // reported: the first-send count is short
    }
  }

  /** Open loop: however the server answers, the schedule says how many are due by now. */
  private void sendDue(int rate, long started, long total) {
    long due = Math.min(total, (System.nanoTime() - started) * rate / 1_000_000_000L);
    while (sent.get() < due) {
      Sender sender = senders.get((int) (sent.getAndIncrement() % senders.size()));
      String key = UUID.randomUUID().toString();
      sentAt.put(key, System.nanoTime());
      if (!sender.client().send(target.send(sender.conversationId(), key, sender.to()))) {
        refused.incrementAndGet();
      }
    }
  }

  private static double cpu(List<NodeProcess> nodes) throws IOException {
    double total = 0;
    for (NodeProcess node : nodes) {
      total += NodeUsage.cpuSeconds(node.pid());
    }
    return total;
  }

  /** The step's figures (printed as a table row by the caller). */
  Step result(String scenario, int rate, List<NodeProcess> nodes) {
    boolean parley = !nodes.isEmpty();
    return new Step(
        scenario,
        target.name(),
        rate,
        sent.get(),
        acks.getTotalCount(),
        errors.get() + refused.get(),
        millis(acks, 50),
        millis(acks, 99),
        millis(acks, 99.9),
        millis(deliveries, 50),
        millis(deliveries, 99),
        millis(deliveries, 99.9),
        millis(firstAcks, 50),
        firstAcks.getTotalCount() == 0 ? Double.NaN : firstAcks.getMaxValue() / 1000.0,
        parley ? serverAfter.percentileSince(serverBefore, 99) : Double.NaN,
        parley ? serverAfter.gcPauses() - serverBefore.gcPauses() : Double.NaN,
        parley ? 1000 * (serverAfter.gcSeconds() - serverBefore.gcSeconds()) : Double.NaN,
        parley ? 100 * cpuSeconds / seconds : Double.NaN,
        100 * stalledSeconds / seconds,
        parley ? persisterLag(nodes) : Double.NaN);
  }

  /** The persister's lag in records (first node's gauge: the consumer group's lag). */
  private static double persisterLag(List<NodeProcess> nodes) {
    return Api.text(nodes.get(0).httpPort(), "/metrics")
        .lines()
        .filter(line -> line.startsWith("parley_persister_lag_records "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(Double.NaN);
  }

  private static double millis(Histogram histogram, double percentile) {
    return histogram.getTotalCount() == 0
        ? Double.NaN
        : histogram.getValueAtPercentile(percentile) / 1000.0;
  }
}
