package io.parley.app;

import com.typesafe.config.Config;
import io.parley.auth.JwtSecret;
import io.parley.ops.HealthRoutes;
import io.parley.ops.Readiness;
import io.parley.pipeline.KafkaConnector;
import io.parley.registry.RedisConnector;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * One Parley node: the actor system, its cluster membership, its connections to Redis and
 * Kafka, and its HTTP port. {@link Main} starts one per process; tests start several per JVM.
 */
public final class ParleyNode implements AutoCloseable {

  public static final String SYSTEM_NAME = "parley";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<Void> system;
  private final ServerBinding binding;

  private ParleyNode(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  /** Starts a node and returns once its HTTP port is bound; readiness follows asynchronously. */
  public static ParleyNode start(Config config) {
    JwtSecret.fromConfig(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    try {
      joinCluster(system);
      RedisConnector.get(system);
      KafkaConnector.get(system);
      ServerBinding binding = await(HttpServer.start(system, routes(system)));
      system.log().info("Parley node {} serving HTTP on {}", Cluster.get(system).selfMember().address(), binding.localAddress());
      return new ParleyNode(system, binding);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  private static void joinCluster(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    // With seed nodes configured Pekko joins them by itself; without, the node is its own seed.
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }

  private static Route routes(ActorSystem<?> system) {
    return new HealthRoutes(new Readiness(system)).routes();
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node failed to start", e);
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public InetSocketAddress httpAddress() {
    return binding.localAddress();
  }

  /** Runs Coordinated Shutdown (unbind, leave the cluster, close clients) and waits for it. */
  @Override
  public void close() {
    system.terminate();
    await(system.getWhenTerminated());
  }
}
