package io.parley.app;

import com.typesafe.config.Config;
import io.parley.auth.JwtAuthenticator;
import io.parley.auth.JwtSecret;
import io.parley.conversation.Conversation;
import io.parley.conversation.ConversationDirectory;
import io.parley.conversation.ConversationIndex;
import io.parley.gateway.Authentication;
import io.parley.gateway.ConversationRoutes;
import io.parley.gateway.DemoRoutes;
import io.parley.gateway.DevTokenRoutes;
import io.parley.gateway.Drain;
import io.parley.gateway.GatewayRoutes;
import io.parley.gateway.HttpErrors;
import io.parley.gateway.RateLimits;
import io.parley.gateway.Session;
import io.parley.gateway.WebSocketConnections;
import io.parley.history.HistoryService;
import io.parley.history.MessageStore;
import io.parley.history.Persister;
import io.parley.history.Schema;
import io.parley.ops.Metrics;
import io.parley.ops.MetricsRoutes;
import io.parley.ops.NodeState;
import io.parley.pipeline.KafkaConnector;
import io.parley.pipeline.MessageLogSearch;
import io.parley.pipeline.Publisher;
import io.parley.presence.PresenceHub;
import io.parley.presence.PresenceStore;
import io.parley.registry.ConnectionRegistry;
import io.parley.registry.Dedup;
import io.parley.registry.RedisConnector;
import io.parley.routing.Fanout;
import io.parley.routing.NodeRouter;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/**
 * One Parley node: the actor system, its cluster membership, its node-local actors (dedup,
 * publisher, router, fan-out), conversation sharding, and its HTTP port. {@link Main} starts one
 * per process; tests start several per JVM.
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
    JwtSecret secret = JwtSecret.fromConfig(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    try {
      joinCluster(system);
      ServerBinding binding = await(HttpServer.start(system, routes(system, secret)));
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

  private static Route routes(ActorSystem<?> system, JwtSecret secret) {
    Config config = system.settings().config();
    Config gateway = config.getConfig("parley.gateway");
    Duration askTimeout = gateway.getDuration("ask-timeout");
    ConnectionRegistry registry =
        new ConnectionRegistry(
            RedisConnector.get(system),
            config.getDuration("parley.registry.ttl"),
            Clock.systemUTC());
    History history = startHistory(system);
    ActorRef<NodeRouter.Message> router = startConversations(system, registry, history.index());
    Drain.register(system, router.narrow());
    // A Redis that restarted may have lost the registry: every session registers again at once
    // rather than at its next heartbeat (pushes to a device need its entry).
    ActorRef<NodeRouter.RefreshAll> refresh = router.narrow();
    RedisConnector.get(system).onReconnected(() -> refresh.tell(new NodeRouter.RefreshAll()));
    HistoryService historyService =
        new HistoryService(
            system, history.store(), askTimeout, config.getDuration("parley.history.persist-wait"));

    Authentication authentication =
        new Authentication(new JwtAuthenticator(secret, Clock.systemUTC()));
    Session.Settings sessions =
        new Session.Settings(
            nodeName(system),
            registry,
            router.narrow(),
            gateway.getDuration("heartbeat-interval"),
            askTimeout,
            gateway.getInt("max-in-flight"),
            gateway.getDuration("slow-client-grace"),
            RateLimits.Settings.fromConfig(gateway.getConfig("rate-limit")),
            historyService,
            startPresence(system),
            config.getInt("parley.presence.max-open-per-connection"));
    WebSocketConnections connections =
        new WebSocketConnections(
            system,
            sessions,
            new WebSocketConnections.Limits(
                gateway.getInt("max-frame-chars"), gateway.getInt("outbound-buffer")));
    ClusterSharding sharding = ClusterSharding.get(system);
    ConversationRoutes.Services services =
        new ConversationRoutes.Services(
            sharding,
            historyService,
            new ConversationDirectory(
                sharding,
                history.index(),
                askTimeout,
                config.getInt("parley.conversation.list-parallelism"),
                system));

    Route all =
        Directives.concat(
            new HealthRoutes(new Readiness(system)).routes(),
            new MetricsRoutes(Metrics.get(system)).routes(),
            new GatewayRoutes(authentication, connections, NodeState.get(system)).routes(),
            new ConversationRoutes(
                    services, authentication, askTimeout, gateway.getBytes("max-body-bytes"))
                .routes(),
            DemoRoutes.fromConfig(config).routes(),
            DevTokenRoutes.fromConfig(config, secret).routes());
    return Directives.handleExceptions(
        HttpErrors.exceptions(),
        () -> Directives.handleRejections(HttpErrors.rejections(), () -> all));
  }

  /** Cassandra history: the schema (when this node may create it), the store, the persister. */
  private record History(MessageStore store, ConversationIndex index) {}

  private static History startHistory(ActorSystem<?> system) {
    Config config = system.settings().config();
    Config history = config.getConfig("parley.history");
    CassandraSession cassandra = MessageStore.session(system);
    if (history.getBoolean("create-schema")) {
      await(Schema.migrate(cassandra, config, true));
    }
    String keyspace = history.getString("keyspace");
    MessageStore store = new MessageStore(cassandra, keyspace, history.getLong("bucket-size"));
    if (history.getBoolean("persister.enabled")) {
      Persister.start(system, store);
    }
    return new History(
        store, new ConversationIndex(cassandra, keyspace, system, Clock.systemUTC()));
  }

  /** The send path's node-local actors and conversation sharding; returns the node's router. */
  private static ActorRef<NodeRouter.Message> startConversations(
      ActorSystem<?> system, ConnectionRegistry registry, ConversationIndex index) {
    Config config = system.settings().config();
    ActorRef<Dedup.Command> dedup =
        system.systemActorOf(
            Dedup.create(RedisConnector.get(system), config.getDuration("parley.dedup.retention")),
            "dedup",
            Props.empty());
    ActorRef<Publisher.Command> publisher =
        system.systemActorOf(
            Publisher.create(
                KafkaConnector.get(system),
                new Publisher.Settings(
                    config.getString("parley.kafka.messages-topic"),
                    config.getDuration("parley.dedup.publish-deadline"),
                    Clock.systemUTC()),
                dedup),
            "publisher",
            DispatcherSelector.fromConfig("parley.kafka.publisher-dispatcher"));
    ActorRef<NodeRouter.Message> router =
        system.systemActorOf(NodeRouter.create(), "node-router", Props.empty());
    ActorRef<Fanout.Command> fanout =
        system.systemActorOf(Fanout.create(registry, nodeName(system)), "fanout", Props.empty());
    MessageLogSearch log =
        new MessageLogSearch(
            config.getString("parley.kafka.bootstrap-servers"),
            config.getString("parley.kafka.messages-topic"),
            config.getDuration("parley.dedup.log-search-timeout"),
            system.dispatchers().lookup(DispatcherSelector.blocking()));
    Conversation.init(
        system,
        Conversation.Settings.fromConfig(config, dedup, publisher, fanout, index, log::find));
    return router;
  }

  /** The node's presence hub: lazy presence and typing for its sessions. */
  private static ActorRef<PresenceHub.Local> startPresence(ActorSystem<?> system) {
    Config presence = system.settings().config().getConfig("parley.presence");
    PresenceStore store =
        new PresenceStore(
            RedisConnector.get(system),
            presence.getDuration("ttl"),
            presence.getDuration("last-seen-retention"),
            presence.getDuration("watch-ttl"),
            Clock.systemUTC());
    return system
        .systemActorOf(
            PresenceHub.create(store, nodeName(system), PresenceHub.Settings.fromConfig(presence)),
            "presence-hub",
            Props.empty())
        .narrow();
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
