package io.parley.app;

import com.typesafe.config.Config;
import io.parley.conversation.Conversation;
import io.parley.conversation.ConversationIndex;
import io.parley.gateway.DeviceRegistration;
import io.parley.gateway.Drain;
import io.parley.gateway.Session;
import io.parley.gateway.Sessions;
import io.parley.history.HistoryService;
import io.parley.history.MessageStore;
import io.parley.history.Persister;
import io.parley.history.Schema;
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
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/**
 * The node's root actor. It starts, in order: the history schema (when this node may create it),
 * the persister, the send path's node-local actors as its children (dedup, publisher, router,
 * fan-out), conversation sharding, the presence hub and the parent of the node's sessions; then it
 * hands the HTTP edge what it needs ({@link Started}). If any of it fails, the guardian stops, and
 * with it the node.
 *
 * <p>Nobody sends the guardian anything: its only message is its own.
 */
public final class Guardian {
  private Guardian() {}

  /** The guardian's protocol: private, it only hears back from its own start. */
  public interface Command {}

  private record SchemaReady(Throwable failure) implements Command {}

  /** Cassandra history: the store and the conversation index. */
  private record History(MessageStore store, ConversationIndex index) {}

  /** What the HTTP edge is wired with once the node's actors run. */
  public record Started(
      HistoryService history, ConversationIndex index, ActorRef<Sessions.Command> sessions) {}

  /** Completes {@code started} once every actor runs, or exceptionally if the node cannot start. */
  public static Behavior<Command> create(CompletableFuture<Started> started) {
    return Behaviors.setup(
        context -> {
          CassandraSession cassandra = MessageStore.session(context.getSystem());
          context.pipeToSelf(
              migrateSchema(context.getSystem(), cassandra),
              (done, failure) -> new SchemaReady(failure));
          return Behaviors.receive(Command.class)
              .onMessage(SchemaReady.class, ready -> start(context, cassandra, ready, started))
              .build();
        });
  }

  private static CompletionStage<Done> migrateSchema(
      ActorSystem<?> system, CassandraSession cassandra) {
    Config config = system.settings().config();
    return config.getBoolean("parley.history.create-schema")
        ? Schema.migrate(cassandra, config, true)
        : CompletableFuture.completedFuture(Done.getInstance());
  }

  private static Behavior<Command> start(
      ActorContext<Command> context,
      CassandraSession cassandra,
      SchemaReady ready,
      CompletableFuture<Started> started) {
    if (ready.failure() != null) {
      started.completeExceptionally(ready.failure());
      return Behaviors.stopped();
    }
    try {
      started.complete(startNode(context, cassandra));
      return Behaviors.empty();
    } catch (RuntimeException e) {
      started.completeExceptionally(e);
      return Behaviors.stopped();
    }
  }

  private static Started startNode(ActorContext<Command> context, CassandraSession cassandra) {
    ActorSystem<?> system = context.getSystem();
    Config config = system.settings().config();
    History history = startHistory(system, cassandra);
    ConnectionRegistry registry = ConnectionRegistry.fromConfig(system);
    ActorRef<NodeRouter.Message> router = startSendPath(context, registry, history.index());
    Drain.register(system, router.narrow());
    // A Redis that restarted may have lost the registry: every session registers again at once
    // rather than at its next heartbeat (pushes to a device need its entry).
    ActorRef<NodeRouter.RefreshAll> refresh = router.narrow();
    RedisConnector.get(system).onReconnected(() -> refresh.tell(new NodeRouter.RefreshAll()));
    HistoryService historyService = HistoryService.fromConfig(system, history.store());
    Session.Dependencies sessionsUse =
        new Session.Dependencies(
            ParleyNode.nodeName(system),
            DeviceRegistration.of(registry),
            router.narrow(),
            historyService,
            startPresence(context));
    ActorRef<Sessions.Command> sessions =
        context.spawn(
            Sessions.create(Session.Settings.fromConfig(config), sessionsUse), "sessions");
    return new Started(historyService, history.index(), sessions);
  }

  /** The store, the conversation index and, where enabled, the persister. */
  private static History startHistory(ActorSystem<?> system, CassandraSession cassandra) {
    Config config = system.settings().config();
    Config history = config.getConfig("parley.history");
    String keyspace = history.getString("keyspace");
    MessageStore store = new MessageStore(cassandra, keyspace, history.getLong("bucket-size"));
    if (history.getBoolean("persister.enabled")) {
      Persister.start(system, store, Persister.Settings.fromConfig(config));
    }
    return new History(
        store, new ConversationIndex(cassandra, keyspace, system, Clock.systemUTC()));
  }

  /** The send path's node-local actors and conversation sharding; returns the node's router. */
  private static ActorRef<NodeRouter.Message> startSendPath(
      ActorContext<Command> context, ConnectionRegistry registry, ConversationIndex index) {
    ActorSystem<?> system = context.getSystem();
    Config config = system.settings().config();
    ActorRef<Dedup.Command> dedup = context.spawn(Dedup.create(system), "dedup");
    ActorRef<Publisher.Command> publisher =
        context.spawn(
            Publisher.create(
                KafkaConnector.get(system), Publisher.Settings.fromConfig(config), dedup),
            "publisher",
            DispatcherSelector.fromConfig("parley.kafka.publisher-dispatcher"));
    ActorRef<NodeRouter.Message> router = context.spawn(NodeRouter.create(), "node-router");
    ActorRef<Fanout.Command> fanout =
        context.spawn(Fanout.create(registry, ParleyNode.nodeName(system)), "fanout");
    MessageLogSearch log = MessageLogSearch.fromConfig(system);
    Conversation.init(
        system,
        Conversation.Settings.fromConfig(config, dedup, publisher, fanout, index, log::find));
    return router;
  }

  /** The node's presence hub: lazy presence and typing for its sessions. */
  private static ActorRef<PresenceHub.Local> startPresence(ActorContext<Command> context) {
    ActorSystem<?> system = context.getSystem();
    PresenceHub.Settings settings =
        PresenceHub.Settings.fromConfig(system.settings().config().getConfig("parley.presence"));
    Behavior<PresenceHub.Message> hub =
        PresenceHub.create(PresenceStore.fromConfig(system), ParleyNode.nodeName(system), settings);
    return context.spawn(hub, "presence-hub").narrow();
  }

}
