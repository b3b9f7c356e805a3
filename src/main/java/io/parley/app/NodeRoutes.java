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
import io.parley.gateway.RateLimits;
import io.parley.gateway.Session;
import io.parley.gateway.WebSocketConnections;
import io.parley.history.HistoryService;
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
    HistoryService history =
        new HistoryService(
            system,
            node.history().store(),
            askTimeout,
            config.getDuration("parley.history.persist-wait"));
    Authentication authentication =
        new Authentication(new JwtAuthenticator(secret, Clock.systemUTC()));
    Route all =
        Directives.concat(
            new HealthRoutes(new Readiness(system)).routes(),
            new MetricsRoutes(Metrics.get(system)).routes(),
            new GatewayRoutes(
                    authentication, connections(system, node, history), NodeState.get(system))
                .routes(),
            new ConversationRoutes(
                    services(system, node, history),
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

  private static WebSocketConnections connections(
      ActorSystem<?> system, Guardian.Started node, HistoryService history) {
    Config config = system.settings().config();
    Config gateway = config.getConfig("parley.gateway");
    Session.Settings sessions =
        new Session.Settings(
            ParleyNode.nodeName(system),
            node.registry(),
            node.router(),
            gateway.getDuration("heartbeat-interval"),
            gateway.getDuration("ask-timeout"),
            gateway.getInt("max-in-flight"),
            gateway.getDuration("slow-client-grace"),
            RateLimits.Settings.fromConfig(gateway.getConfig("rate-limit")),
            history,
            node.presence(),
            config.getInt("parley.presence.max-open-per-connection"));
    return new WebSocketConnections(
        system,
        sessions,
        new WebSocketConnections.Limits(
            gateway.getInt("max-frame-chars"), gateway.getInt("outbound-buffer")));
  }

  private static ConversationRoutes.Services services(
      ActorSystem<?> system, Guardian.Started node, HistoryService history) {
    Config config = system.settings().config();
    ClusterSharding sharding = ClusterSharding.get(system);
    return new ConversationRoutes.Services(
        sharding,
        history,
        new ConversationDirectory(
            sharding,
            node.history().index(),
            config.getDuration("parley.gateway.ask-timeout"),
            config.getInt("parley.conversation.list-parallelism"),
            system));
  }
}
