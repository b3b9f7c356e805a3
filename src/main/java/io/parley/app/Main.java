package io.parley.app;

import io.parley.ops.NodeConfig;
import java.util.Map;

/**
 * Starts one Parley node from {@code application.conf} and the environment. SIGTERM runs
 * Coordinated Shutdown (the node unbinds, hands off its shards and leaves the cluster), after which
 * the JVM exits; so does a node that the split brain resolver downs.
 */
public final class Main {
  private Main() {}

  private static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    ensureCommonPoolThreads();
    ParleyNode.start(NodeConfig.load(Map.of("pekko.coordinated-shutdown.exit-jvm", "on")));
  }

  /**
   * Pekko's Java API hands back Scala futures as CompletionStages whose callbacks always run
   * "async" on the JDK's common pool; with 2 cores that pool has parallelism 1, and then the JDK
   * runs each callback on a brand-new thread (thousands a second: measured at ~20 ms of CPU per
   * message). At least 2 keeps it a real pool. It must be set before anything touches the pool,
   * hence first thing here (a {@code -D} on the command line wins).
   */
  static void ensureCommonPoolThreads() {
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(
          COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
  }
}
