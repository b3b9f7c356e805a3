package io.parley.devstack;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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
  private static final Duration NODE_STOP_DEADLINE = Duration.ofSeconds(30);

  private final List<Process> nodes = new CopyOnWriteArrayList<>();
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

    int seedPort = freePort();
    String seed = "pekko://parley@127.0.0.1:" + seedPort;
    for (int i = 0; i < nodeCount; i++) {
      int remotePort = i == 0 ? seedPort : freePort();
      nodes.add(startNode(i, firstHttpPort + i, remotePort, seed));
    }
    System.out.printf("parley-local: waiting for %d nodes to be ready ...%n", nodeCount);
    for (int i = 0; i < nodeCount; i++) {
      awaitReady(i, firstHttpPort + i);
    }
  }

  private Process startNode(int index, int httpPort, int remotePort, String seed)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                javaExecutable(),
                "-Xms128m",
                "-Xmx512m",
                "-XX:+UseG1GC",
                "-cp",
                System.getProperty("java.class.path"),
                ChildGuard.class.getName(),
                "io.parley.app.Main"));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(nodeLog(index).toFile());
    Map<String, String> env = builder.environment();
    env.put("PARLEY_HTTP_HOST", "127.0.0.1");
    env.put("PARLEY_HTTP_PORT", Integer.toString(httpPort));
    env.put("PARLEY_REMOTE_PORT", Integer.toString(remotePort));
    env.put("PARLEY_MANAGEMENT_PORT", Integer.toString(freePort()));
    env.put("PARLEY_MANAGEMENT_BIND_HOST", "127.0.0.1");
    // No load balancer to wait for locally; Ctrl-C should not take long.
    env.put("PARLEY_DRAIN_READINESS_DELAY", "0s");
    env.put("PARLEY_DRAIN_SPREAD", "1s");
    env.put("PARLEY_SEED_NODES", seed);
    env.put("PARLEY_REDIS_URI", stack.redis().uri());
    env.put("PARLEY_KAFKA_BOOTSTRAP", stack.kafka().bootstrapServers());
    env.put("PARLEY_CASSANDRA_CONTACT_POINTS", stack.cassandra().contactPoint());
    env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", "true");
    // CHAT_JWT_SECRET is inherited (bin/parley-local sets a development one when unset).
    return builder.start();
  }

  private void awaitReady(int index, int httpPort) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest probe =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))
            .timeout(Duration.ofSeconds(5))
            .build();
    Instant deadline = Instant.now().plus(READY_DEADLINE);
    while (Instant.now().isBefore(deadline)) {
      if (!nodes.get(index).isAlive()) {
        throw new IllegalStateException("node " + (index + 1) + " exited; see " + nodeLog(index));
      }
      try {
        if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notListeningYet) {
        // The node is still starting.
      }
      Thread.sleep(250); // polling interval of a readiness probe, not synchronisation
    }
    throw new IllegalStateException(
        "node " + (index + 1) + " not ready within " + READY_DEADLINE + "; see " + nodeLog(index));
  }

  /** Newest first and one at a time, so each node can hand off its shards and leave. */
  private void stopNodes() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      stopNode(nodes.get(i));
    }
  }

  private static void stopNode(Process node) {
    node.destroy(); // SIGTERM: Coordinated Shutdown
    try {
      if (!node.waitFor(NODE_STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
        node.descendants().forEach(ProcessHandle::destroyForcibly);
        node.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      node.destroyForcibly();
    }
  }

  private Path nodeLog(int index) {
    return runDir.resolve("node-" + (index + 1) + ".log");
  }

  private static int envInt(String name, int fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
  }

  private static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
