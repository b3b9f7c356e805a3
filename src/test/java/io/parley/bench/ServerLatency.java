package io.parley.bench;

import io.parley.devstack.NodeProcess;
import io.parley.testing.Api;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nodes' own ack latency histogram ({@code parley_ack_latency_seconds}: from a send frame read
 * to its ack queued), summed over nodes. The difference of two snapshots gives the server's share
 * of one step's ack latency, to tell time spent in Parley from time spent in the sockets, the load
 * generator or the box's scheduler.
 */
record ServerLatency(TreeMap<Double, Double> cumulative) {

  private static final String BUCKET = "parley_ack_latency_seconds_bucket{";

  static ServerLatency read(List<NodeProcess> nodes) {
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (NodeProcess node : nodes) {
      Api.text(node.httpPort(), "/metrics")
          .lines()
          .filter(line -> line.startsWith(BUCKET))
          .forEach(line -> buckets.merge(bound(line), value(line), Double::sum));
    }
    return new ServerLatency(buckets);
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
  double percentileSince(ServerLatency before, double percentile) {
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

  private double delta(ServerLatency before, double bound) {
    return cumulative.getOrDefault(bound, 0.0) - before.cumulative.getOrDefault(bound, 0.0);
  }
}
