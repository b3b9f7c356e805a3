package io.parley.devstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * The README's run command ({@code bin/parley-local}): a real stack and {@code PARLEY_NODES} nodes
 * of one cluster, each its own JVM, HTTP on {@code PARLEY_HTTP_PORT}, +1, +2, ...
 *
 * <p>Nodes are started through {@link ChildGuard}, so they exit when this process dies, even by
 * SIGKILL. On Ctrl-C or SIGTERM the nodes are stopped one at a time (each drains and leaves the
 * cluster), then the stack.
 */
public final class LocalRun {

  private static final Duration READY_DEADLINE = Duration.ofMinutes(3);

  private final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private final Path runDir;
  private LocalStack stack;

  private LocalRun(Path runDir) {
    this.runDir = runDir;
  }

  public static void main(String[] args) throws Exception {
    // Initialise logging before the stack's threads log concurrently (SLF4J would replay them).
    LoggerFactory.getLogger(LocalRun.class).debug("starting");
    int nodeCount = envInt("PARLEY_NODES", 2);
    int firstHttpPort = envInt("PARLEY_HTTP_PORT", 8080);
    StackOptions defaults = StackOptions.defaults();
    Path runDir = defaults.projectDir().resolve("target/local-run");
    Files.createDirectories(runDir);

    LocalRun run = new LocalRun(runDir);
    Instant started = Instant.now();
    run.start(defaults, nodeCount, firstHttpPort);
    System.out.printf(
        "%nParley is up (%d s): %d nodes, one cluster.%n",
        Duration.between(started, Instant.now()).toSeconds(), nodeCount);
    for (int i = 0; i < nodeCount; i++) {
      int port = firstHttpPort + i;
      System.out.printf(
          "  node %d: http://127.0.0.1:%d  ws://127.0.0.1:%d/ws  log %s%n",
          i + 1, port, port, run.nodeLog(i));
    }
    System.out.println("Press Ctrl-C to stop everything.");
    Thread.currentThread().join();
  }

  private void start(StackOptions defaults, int nodeCount, int firstHttpPort) throws Exception {
    System.out.println("parley-local: starting Redis, Kafka and Cassandra ...");
    stack = LocalStack.start(defaults);
    // Ctrl-C, SIGTERM or a failed start: the stack's own shutdown hook stops the nodes first.
    stack.beforeClose(this::stopNodes);
    System.out.printf(
        "  redis     %s%n  kafka     %s%n  cassandra %s%n",
        stack.redis().uri(), stack.kafka().bootstrapServers(), stack.cassandra().contactPoint());

    // No load balancer to wait for locally; Ctrl-C should not take long.
    Map<String, String> env =
        Map.of("PARLEY_DRAIN_READINESS_DELAY", "0s", "PARLEY_DRAIN_SPREAD", "1s");
    // Nodes run on the production classpath; ours has the test classes this launcher lives in.
    String classpath = NodeProcess.classpath(defaults.projectDir());
    List<String> seeds = List.of();
    for (int i = 0; i < nodeCount; i++) {
      NodeProcess node =
          NodeProcess.start(stack, classpath, firstHttpPort + i, seeds, env, nodeLog(i));
      nodes.add(node);
      if (i == 0) {
        // The first node forms the cluster and creates the schema alone (concurrent DDL from
        // several nodes can time out); the others then start together and join it.
        seeds = List.of(node.address());
        node.awaitReady(READY_DEADLINE);
      }
    }
    System.out.printf("parley-local: waiting for %d nodes to be ready ...%n", nodeCount);
    for (NodeProcess node : nodes) {
      node.awaitReady(READY_DEADLINE);
    }
  }

  /** Newest first and one at a time, so each node can hand off its shards and leave. */
  private void stopNodes() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).stop();
    }
  }

  private Path nodeLog(int index) {
    return runDir.resolve("node-" + (index + 1) + ".log");
  }

  private static int envInt(String name, int fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
  }
}
