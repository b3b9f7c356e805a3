package io.parley.bench;

import io.parley.devstack.NodeProcess;
import io.parley.testing.Api;
import java.util.List;

/**
 * The JIT compilers' busy time of each node so far, from its {@code /metrics}
 * ({@code jvm_compilation_time_ms_total}, summed over the compiler threads): the warm-up goes on
 * until it stops growing, since a JVM still compiling spends a core on it (docs/benchmarks.md).
 */
final class JitClock {

  private static final String METRIC = "jvm_compilation_time_ms_total";

  private JitClock() {}

  /** Milliseconds each node's compilers have been busy, in the order of {@code nodes}. */
  static long[] busyMillis(List<NodeProcess> nodes) {
    long[] millis = new long[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      millis[i] =
          Api.text(nodes.get(i).httpPort(), "/metrics")
              .lines()
              .filter(line -> line.startsWith(METRIC))
              .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
              .sum();
    }
    return millis;
  }
}
