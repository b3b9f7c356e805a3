package io.parley.testing;

import static org.awaitility.Awaitility.await;

import io.parley.app.ParleyNode;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.devstack.LocalStack;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/** Several Parley nodes of one cluster in this JVM, on free ports, pointed at the test stack. */
public final class TestCluster implements AutoCloseable {

  private static final JwtIssuer TOKENS =
      new JwtIssuer(
          new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)), Clock.systemUTC());

  private final List<ParleyNode> nodes = new ArrayList<>();

  /** Starts {@code size} nodes and waits until every node sees all of them Up. */
  public static TestCluster start(LocalStack stack, int size, Map<String, ?> extraConfig) {
    TestCluster cluster = new TestCluster();
    try {
      for (int i = 0; i < size; i++) {
        cluster.nodes.add(
            ParleyNode.start(
                TestNodes.clusterNode(
                    stack, i == 0 ? null : TestNodes.address(cluster.nodes.get(0)), extraConfig)));
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> cluster.nodes.stream().allMatch(n -> upMembers(n) == size));
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  public ParleyNode node(int index) {
    return nodes.get(index);
  }

  public int httpPort(int index) {
    return nodes.get(index).httpAddress().getPort();
  }

  public static String token(String userId) {
    return TOKENS.issue(userId, Duration.ofHours(1));
  }

  /**
   * Kills one node as a crash would: its actor system stops without leaving the cluster, handing
   * off shards or checkpointing entities. Only for clusters started with {@link #CRASHABLE}.
   */
  public void crash(int index) {
    ParleyNode node = nodes.get(index);
    node.system().terminate();
    node.system().getWhenTerminated().toCompletableFuture().join();
  }

  /** Settings under which {@link #crash} skips Coordinated Shutdown, like {@code kill -9}. */
  public static final Map<String, Object> CRASHABLE =
      Map.of("pekko.coordinated-shutdown.run-by-actor-system-terminate", "off");

  /** Stops one node gracefully (its shards move to the others). */
  public void stop(int index) {
    nodes.get(index).close();
  }

  private static long upMembers(ParleyNode node) {
    return StreamSupport.stream(
            Cluster.get(node.system()).state().getMembers().spliterator(), false)
        .filter(member -> member.status().equals(MemberStatus.up()))
        .count();
  }

  /** Newest first, one at a time, so each leaving node is acknowledged by the others. */
  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).close();
    }
  }
}
