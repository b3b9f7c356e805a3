package io.parley.testing;

import com.typesafe.config.Config;
import io.parley.app.ParleyNode;
import io.parley.devstack.LocalStack;
import io.parley.ops.NodeConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.typed.Cluster;

/** Configuration for nodes and actor systems under test, pointed at the test run's stack. */
public final class TestNodes {

  /** A development secret for tests only; production secrets come from CHAT_JWT_SECRET. */
  public static final String JWT_SECRET = "parley-test-secret-0123456789abcdef0123456789";

  private TestNodes() {}

  /** A local (non-cluster) actor system's config: for tests of one component. */
  public static Config localSystem(LocalStack stack) {
    Map<String, Object> overrides = stackOverrides(stack);
    overrides.put("pekko.actor.provider", "local");
    return NodeConfig.load(overrides);
  }

  /** A cluster node on free ports; {@code seed} null makes it the first node. */
  public static Config clusterNode(LocalStack stack, Address seed, Map<String, ?> extra) {
    Map<String, Object> overrides = stackOverrides(stack);
    overrides.put("pekko.remote.artery.canonical.port", 0);
    overrides.put("parley.http.host", "127.0.0.1");
    overrides.put("parley.http.port", 0);
    overrides.put("pekko.management.http.port", 0);
    // Nodes under test drain at once (DrainIntegrationTest sets its own window).
    overrides.put("parley.drain.readiness-delay", "0s");
    overrides.put("parley.drain.spread", "500ms");
    overrides.put("parley.drain.grace", "2s");
    // Tests send faster than people; RateLimitIntegrationTest sets its own limits.
    overrides.put("parley.gateway.rate-limit.sends-per-second", 100_000);
    overrides.put("parley.gateway.rate-limit.send-burst", 100_000);
    overrides.put("parley.cluster.seed-nodes", seed == null ? "" : seed.toString());
    // The first write of a test run also creates the journal's keyspace: allow for it.
    overrides.put("parley.gateway.ask-timeout", "30s");
    // Tests stop nodes on purpose; downing them quickly keeps shards moving.
    overrides.put("pekko.cluster.split-brain-resolver.stable-after", "3s");
    overrides.putAll(extra);
    return NodeConfig.load(overrides);
  }

  public static Address address(ParleyNode node) {
    return Cluster.get(node.system()).selfMember().address();
  }

  private static Map<String, Object> stackOverrides(LocalStack stack) {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("parley.redis.uri", stack.redis().uri());
    overrides.put("parley.kafka.bootstrap-servers", stack.kafka().bootstrapServers());
    overrides.put("parley.cassandra.contact-points", stack.cassandra().contactPoint());
    overrides.put("parley.cassandra.create-schema", true);
    overrides.put("chat.auth.jwt-secret", JWT_SECRET);
    return overrides;
  }
}
