package io.parley.bench;

import io.parley.devstack.NodeProcess;
import io.parley.testing.Api;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of the nodes' own meters, summed over nodes: the ack latency histogram ({@code
 * parley_ack_latency_seconds}: from a send frame read to its ack queued) and the GC pauses. The
 * difference of two snapshots gives the server's share of one step's ack latency (to tell time in
 * Parley from time in the sockets, the load generator or the box's scheduler) and the time the
 * nodes stood still for GC during the step.
 */
record NodeMetrics(TreeMap<Double, Double> cumulative, double gcPauses, double gcSeconds) {

  private static final String BUCKET = "parley_ack_latency_seconds_bucket{";

  static NodeMetrics read(List<NodeProcess> nodes) {
    TreeMap<Double, Double> buckets = new TreeMap<>();
    double pauses = 0;
    double pauseSeconds = 0;
    for (NodeProcess node : nodes) {
      List<String> lines = Api.text(node.httpPort(), "/metrics").lines().toList();
      lines.stream()
          .filter(line -> line.startsWith(BUCKET))
          .forEach(line -> buckets.merge(bound(line), value(line), Double::sum));
      pauses += sum(lines, "jvm_gc_pause_seconds_count{");
      pauseSeconds += sum(lines, "jvm_gc_pause_seconds_sum{");
    }
    return new NodeMetrics(buckets, pauses, pauseSeconds);
  }

  private static double sum(List<String> lines, String prefix) {
    return lines.stream()
        .filter(line -> line.startsWith(prefix))
        .mapToDouble(NodeMetrics::value)
        .sum();
  }

  private static double bound(String line) {
    int start = line.indexOf("le=\"") + 4;
    String le = line.substring(start, line.indexOf('"', start));
    return le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  private static double value(String line) {
    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
  }

  /**
   * The upper bound (ms) of the bucket holding the {@code percentile} of the acks since {@code
   * before}; NaN without acks. Buckets are coarse (about 10-30% apart), so this is a bound.
   */
  double percentileSince(NodeMetrics before, double percentile) {
    double total = delta(before, Double.POSITIVE_INFINITY);
    if (total <= 0) {
      return Double.NaN;
    }
    for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
      if (delta(before, bucket.getKey()) >= total * percentile / 100) {
        return bucket.getKey() * 1000;
      }
    }
    return Double.POSITIVE_INFINITY;
  }

  private double delta(NodeMetrics before, double bound) {
    return cumulative.getOrDefault(bound, 0.0) - before.cumulative.getOrDefault(bound, 0.0);
  }
}
