package io.parley.checker;

import io.parley.devstack.LocalStack;
import io.parley.devstack.NodeProcess;
import io.parley.devstack.StackOptions;
import io.parley.testing.TestNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Parley node processes of one cluster, each in its own JVM so that one can be drained (SIGTERM) or
 * killed (SIGKILL) like a pod, and replaced in place.
 */
final class NodeSet implements AutoCloseable {

  static final Duration READY = Duration.ofMinutes(3);

  /** Over how long a drained node tells its clients to reconnect. */
  static final Duration DRAIN_SPREAD = Duration.ofSeconds(3);

  private static final Map<String, String> NODE_ENV =
      Map.of(
          "CHAT_JWT_SECRET", TestNodes.JWT_SECRET,
          "PARLEY_DRAIN_READINESS_DELAY", "1s",
          "PARLEY_DRAIN_SPREAD", DRAIN_SPREAD.toSeconds() + "s",
          "PARLEY_SEND_RATE", "1000",
          "PARLEY_SBR_STABLE_AFTER", "5s",
          // Small seq blocks: a Cassandra outage soon stops conversations that need a new one,
          // so the checker sees entities fail and recover, not only sail through.
          "PARLEY_SEQ_BLOCK_SIZE", "100",
          // Heartbeats far apart: after Redis loses the registry, only the sessions' re-register
          // on reconnect can bring pushes back within the checker's deadline.
          "PARLEY_HEARTBEAT_INTERVAL", "600s",
          "PARLEY_REGISTRY_TTL", "1800s",
          // As in production, nodes do not create the schema (the first one here does); and on two
          // cores shared with the whole stack, a quick JIT lets a replacement start in time.
          "PARLEY_CASSANDRA_CREATE_SCHEMA", "false",
          "JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1");

  /** When a node was told to stop (or killed) and when it had exited. */
  record Stopped(Instant signalled, Instant exited, int exitCode) {
    Duration took() {
      return Duration.between(signalled, exited);
    }
  }

  private final LocalStack stack;
  private final String classpath;
  private final Path logs;
  private final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private int started;

  private NodeSet(LocalStack stack, String classpath, Path logs) {
    this.stack = stack;
    this.classpath = classpath;
    this.logs = logs;
  }

  /** {@code count} ready nodes of one cluster; the first creates the schema alone. */
  static NodeSet start(LocalStack stack, int count, String name) throws Exception {
    Path projectDir = StackOptions.defaults().projectDir();
    Path logs = Files.createDirectories(projectDir.resolve("target/checker/" + name));
    NodeSet set = new NodeSet(stack, NodeProcess.classpath(projectDir), logs);
    try {
      List<String> seeds = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Map<String, String> env = new HashMap<>(NODE_ENV);
        env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", Boolean.toString(i == 0));
        NodeProcess node = set.launch(seeds, env);
        set.nodes.add(node);
        seeds.add(node.address());
        if (i == 0) {
          node.awaitReady(READY);
        }
      }
      for (NodeProcess node : set.nodes) {
        node.awaitReady(READY);
      }
      return set;
    } catch (Exception | Error e) {
      set.close();
      throw e;
    }
  }

  int size() {
    return nodes.size();
  }

  int httpPort(int index) {
    return nodes.get(index).httpPort();
  }

  NodeProcess node(int index) {
    return nodes.get(index);
  }

  /** SIGTERM: the node drains its clients, hands its shards off and leaves. */
  Stopped drain(int index) {
    Instant signalled = Instant.now();
    int exit = nodes.get(index).stop();
    return new Stopped(signalled, Instant.now(), exit);
  }

  /** SIGKILL: the others find out through the failure detector and the split brain resolver. */
  Stopped kill(int index) {
    Instant signalled = Instant.now();
    nodes.get(index).kill();
    return new Stopped(signalled, Instant.now(), -9);
  }

  /** A new node in the place of a stopped one, joined through the others and ready. */
  void replace(int index) throws Exception {
    NodeProcess old = nodes.get(index);
    List<String> seeds = nodes.stream().filter(n -> n != old).map(NodeProcess::address).toList();
    NodeProcess replacement = launch(seeds, NODE_ENV);
    nodes.set(index, replacement);
    replacement.awaitReady(READY);
  }

  /** Replaces every node whose process is gone (a fault test that failed before its replace). */
  void replaceExited() throws Exception {
    for (int i = 0; i < nodes.size(); i++) {
      if (!nodes.get(i).isAlive()) {
        replace(i);
      }
    }
  }

  private NodeProcess launch(List<String> seeds, Map<String, String> env) throws Exception {
    Path log = logs.resolve("node-" + started++ + ".log");
    return NodeProcess.start(stack, classpath, 0, List.copyOf(seeds), env, log);
  }

  @Override
  public void close() {
    nodes.forEach(NodeProcess::stop);
  }
}
