package io.parley.app;

import java.util.Map;

/**
 * Starts one Parley node from {@code application.conf} and the environment. SIGTERM runs
 * Coordinated Shutdown (the node unbinds, hands off its shards and leaves the cluster), after which
 * the JVM exits; so does a node that the split brain resolver downs.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    ParleyNode.start(NodeConfig.load(Map.of("pekko.coordinated-shutdown.exit-jvm", "on")));
  }
}
