package io.parley.app;

import com.typesafe.config.Config;
import io.parley.auth.JwtAuthenticator;
import io.parley.auth.JwtSecret;
import io.parley.conversation.ConversationDirectory;
import io.parley.gateway.Authentication;
import io.parley.gateway.ConversationRoutes;
import io.parley.gateway.DemoRoutes;
import io.parley.gateway.DevTokenRoutes;
import io.parley.gateway.GatewayRoutes;
import io.parley.gateway.HttpErrors;
import io.parley.gateway.WebSocketConnections;
import io.parley.ops.Metrics;
import io.parley.ops.MetricsRoutes;
import io.parley.ops.NodeState;
import java.time.Clock;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The node's HTTP surface, wired to the actors the {@link Guardian} started: health, metrics, the
 * WebSocket gateway, the conversation API, the demo page and (when enabled) dev tokens. One place
 * maps errors and rejections to the protocol's codes ({@link HttpErrors}).
 */
final class NodeRoutes {
  private NodeRoutes() {}

  static Route create(ActorSystem<?> system, Guardian.Started node, JwtSecret secret) {
    Config config = system.settings().config();
    Config gateway = config.getConfig("parley.gateway");
    Duration askTimeout = gateway.getDuration("ask-timeout");
    Authentication authentication =
        new Authentication(new JwtAuthenticator(secret, Clock.systemUTC()));
    WebSocketConnections connections =
        new WebSocketConnections(
            system, node.sessions(), WebSocketConnections.Limits.fromConfig(gateway));
    Route all =
        Directives.concat(
            new HealthRoutes(new Readiness(system)).routes(),
            new MetricsRoutes(Metrics.get(system)).routes(),
            new GatewayRoutes(authentication, connections, NodeState.get(system)).routes(),
            new ConversationRoutes(
                    services(system, node),
                    authentication,
                    askTimeout,
                    gateway.getBytes("max-body-bytes"))
                .routes(),
            DemoRoutes.fromConfig(config).routes(),
            DevTokenRoutes.fromConfig(config, secret).routes());
    return Directives.handleExceptions(
        HttpErrors.exceptions(),
        () -> Directives.handleRejections(HttpErrors.rejections(), () -> all));
  }

  private static ConversationRoutes.Services services(
      ActorSystem<?> system, Guardian.Started node) {
    Config config = system.settings().config();
    ClusterSharding sharding = ClusterSharding.get(system);
    return new ConversationRoutes.Services(
        sharding,
        node.history(),
        new ConversationDirectory(
            sharding,
            node.index(),
            config.getDuration("parley.gateway.ask-timeout"),
            config.getInt("parley.conversation.list-parallelism"),
            system));
  }
}
