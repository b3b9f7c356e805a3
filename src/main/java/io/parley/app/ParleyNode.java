package io.parley.app;

import com.typesafe.config.Config;
import io.parley.auth.JwtSecret;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * One Parley node: an actor system whose {@link Guardian} starts the node's actors, its cluster
 * membership, and its HTTP port ({@link NodeRoutes}). {@link Main} starts one per process; tests
 * start several per JVM.
 */
public final class ParleyNode implements AutoCloseable {

  public static final String SYSTEM_NAME = "parley";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<Guardian.Command> system;
  private final ServerBinding binding;

  private ParleyNode(ActorSystem<Guardian.Command> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  /** Starts a node and returns once its HTTP port is bound; readiness follows asynchronously. */
  public static ParleyNode start(Config config) {
    JwtSecret secret = JwtSecret.fromConfig(config);
    CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
    ActorSystem<Guardian.Command> system =
        ActorSystem.create(Guardian.create(started), SYSTEM_NAME, config);
    try {
      joinCluster(system);
      Route routes = NodeRoutes.create(system, await(started), secret);
      ServerBinding binding = await(HttpServer.start(system, routes));
      system
          .log()
          .info("Parley node {} serving HTTP on {}", nodeName(system), binding.localAddress());
      return new ParleyNode(system, binding);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  private static void joinCluster(ActorSystem<?> system) {
    Config config = system.settings().config();
    // Management serves the health probes in every mode, and is bootstrap's contact point.
    await(PekkoManagement.get(system).start());
    if (config.getString("parley.cluster.bootstrap").equals("kubernetes")) {
      ClusterBootstrap.get(system).start();
    } else if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      // With seed nodes configured Pekko joins them by itself; without, the node is its own seed.
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }

  /** The node's name in the connection registry: its cluster address. */
  public static String nodeName(ActorSystem<?> system) {
    return Cluster.get(system).selfMember().address().toString();
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node failed to start", e);
    }
  }

  public ActorSystem<?> system() {
    return system;
  }

  public InetSocketAddress httpAddress() {
    return binding.localAddress();
  }

  /**
   * Runs Coordinated Shutdown (unbind, hand off shards, leave the cluster, close clients) and
   * waits.
   */
  @Override
  public void close() {
    system.terminate();
    await(system.getWhenTerminated());
  }
}
