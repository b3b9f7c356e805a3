package io.parley.app;

import io.parley.ops.NodeState;
import io.parley.pipeline.KafkaConnector;
import io.parley.registry.RedisConnector;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether this node should receive traffic: it is not draining, has joined the cluster and reaches
 * Redis and Kafka (without them no message can be deduplicated, routed or acked). Cassandra is not
 * part of it: the send path does not touch Cassandra, and history catches up from Kafka.
 */
public final class Readiness {

  /** The outcome of one probe, check by check. */
  public record Report(boolean cluster, boolean redis, boolean kafka, boolean draining) {
    public boolean ready() {
      return cluster && redis && kafka && !draining;
    }
  }

  private final ActorSystem<?> system;

  public Readiness(ActorSystem<?> system) {
    this.system = system;
  }

  /** Runs the Redis and Kafka checks in parallel; each is bounded by its own timeout. */
  public CompletionStage<Report> check() {
    boolean joined = Cluster.get(system).selfMember().status().equals(MemberStatus.up());
    CompletionStage<Boolean> redis = RedisConnector.get(system).ping();
    CompletionStage<Boolean> kafka = KafkaConnector.get(system).reachable();
    boolean draining = NodeState.get(system).draining();
    return redis.thenCombine(
        kafka, (redisUp, kafkaUp) -> new Report(joined, redisUp, kafkaUp, draining));
  }
}
