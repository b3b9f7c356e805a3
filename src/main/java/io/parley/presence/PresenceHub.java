package io.parley.presence;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.parley.CborSerializable;
import io.parley.ops.Metrics;
import io.parley.presence.PresenceStore.Status;
import io.parley.routing.NodeNames;
import io.parley.routing.NodeRouter;
import io.parley.routing.NodeRouter.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.slf4j.Logger;

/**
 * One per node: lazy presence and typing for the node's sessions.
 *
 * <p>A session that opens a conversation becomes a viewer of it and of its other members. The hub
 * records, in Redis, that this node holds viewers of those users and of that conversation ({@link
 * PresenceStore#watch}). When a user comes online or goes offline, the hub of the node where that
 * happened tells only the hubs listed for that user, and each pushes to its own viewers; typing
 * goes the same way to the hubs listed for the conversation. Nothing is broadcast, and users whom
 * nobody views cost nothing but their heartbeat.
 *
 * <p>Flaps: a device that disconnects makes its user offline only after {@code offlineDebounce},
 * and only if no device of the user is registered by then (on any node). A reconnect within that
 * time therefore shows viewers nothing. A crashed node's users go offline when their presence key
 * expires; every hub re-reads the status of the users its viewers watch each {@code pollInterval},
 * which also repairs a missed announcement.
 *
 * <p>Protocol by sender, each given a ref narrowed to its part: other hubs {@link Command} (the
 * only part that crosses the cluster; {@link #KEY} keeps its type name, so older hubs still find
 * this one during a rolling deploy), the node's sessions {@link Local}.
 */
public final class PresenceHub {

  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "parley-presence-hub");

  /** Everything the hub handles; it is never handed out whole. */
  public sealed interface Message
      permits Command, Local, HubsChanged, Announce, OfflineDue, ViewStatuses, Polled, Tick {}

  /** What other hubs send: the only part that crosses the cluster. */
  public sealed interface Command extends Message, CborSerializable
      permits StatusChanged, TypingSeen {}

  /** What this node's sessions send. */
  public sealed interface Local extends Message
      permits DeviceActive, DeviceGone, View, Unview, ViewerGone, Typing {}

  /** A device of the user connected or sent its heartbeat. */
  public record DeviceActive(String userId) implements Local {}

  /** A device of the user disconnected cleanly at {@code at}. */
  public record DeviceGone(String userId, Instant at) implements Local {}

  /** {@code viewer} (a session of {@code userId}) opened the conversation of these members. */
  public record View(
      ActorRef<Delivery> viewer, String userId, String conversationId, List<String> members)
      implements Local {}

  public record Unview(ActorRef<Delivery> viewer, String conversationId) implements Local {}

  /** The session is gone: it views nothing any more. */
  public record ViewerGone(ActorRef<Delivery> viewer) implements Local {}

  /** {@code userId} is typing in the conversation. */
  public record Typing(String conversationId, String userId) implements Local {}

  /** Between hubs: a user's status changed. */
  public record StatusChanged(String userId, boolean online, Instant lastSeen) implements Command {}

  /** Between hubs: someone types in a conversation this node's sessions view. */
  public record TypingSeen(String conversationId, String userId) implements Command {}

  private record HubsChanged(Receptionist.Listing listing) implements Message {}

  private record Announce(Command change, List<String> nodes) implements Message {}

  private record OfflineDue(String userId, Instant at) implements Message {}

  private record ViewStatuses(
      ActorRef<Delivery> viewer, long startedAt, Map<String, Status> statuses) implements Message {}

  private record Polled(long startedAt, Map<String, Status> statuses) implements Message {}

  /** Re-read the viewed users' statuses; write this node's watches in Redis again. */
  private enum Tick implements Message {
    POLL,
    REFRESH_WATCHES
  }

  /** Timing and limits ({@code parley.presence}). */
  public record Settings(Duration offlineDebounce, Duration pollInterval, Duration watchRefresh) {

    public static Settings fromConfig(Config presence) {
      return new Settings(
          presence.getDuration("offline-debounce"),
          presence.getDuration("poll-interval"),
          presence.getDuration("watch-refresh"));
    }
  }

  private final ActorContext<Message> context;

  /** Used from futures' callbacks too, where the actor context must not be touched. */
  private final Logger log;

  private final TimerScheduler<Message> timers;
  private final PresenceRecords store;
  private final String selfNode;
  private final Settings settings;
  private final Map<String, ActorRef<Command>> hubs = new HashMap<>();
  private final Viewers viewers = new Viewers();

  /** The last status pushed for each watched user, and when (a counter) it last changed. */
  private final Map<String, Status> known = new HashMap<>();

  private final Map<String, Long> changedAt = new HashMap<>();
  private long clock;
  private final Counter announcements;

  private PresenceHub(
      ActorContext<Message> context,
      TimerScheduler<Message> timers,
      PresenceRecords store,
      String selfNode,
      Settings settings) {
    this.context = context;
    this.log = context.getLog();
    this.timers = timers;
    this.store = store;
    this.selfNode = selfNode;
    this.settings = settings;
    announcements =
        Metrics.get(context.getSystem())
            .counter(
                "parley_presence_announcements_total",
                "Status changes and typing notices sent to the nodes of their viewers");
  }

  public static Behavior<Message> create(
      PresenceRecords store, String selfNode, Settings settings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  var receptionist = context.getSystem().receptionist();
                  ActorRef<Command> self = context.getSelf().narrow();
                  receptionist.tell(Receptionist.register(KEY, self));
                  receptionist.tell(
                      Receptionist.subscribe(
                          KEY,
                          context.messageAdapter(Receptionist.Listing.class, HubsChanged::new)));
                  timers.startTimerWithFixedDelay(Tick.POLL, settings.pollInterval());
                  timers.startTimerWithFixedDelay(Tick.REFRESH_WATCHES, settings.watchRefresh());
                  return new PresenceHub(context, timers, store, selfNode, settings).behavior();
                }));
  }

  private Behavior<Message> behavior() {
    return Behaviors.receive(Message.class)
        .onMessage(DeviceActive.class, this::onDeviceActive)
        .onMessage(DeviceGone.class, this::onDeviceGone)
        .onMessage(OfflineDue.class, this::onOfflineDue)
        .onMessage(View.class, this::onView)
        .onMessage(ViewStatuses.class, this::onViewStatuses)
        .onMessage(Unview.class, unview -> unview(unview.viewer(), unview.conversationId()))
        .onMessage(ViewerGone.class, gone -> onViewerGone(gone.viewer()))
        .onMessage(Typing.class, this::onTyping)
        .onMessage(Announce.class, this::onAnnounce)
        .onMessage(StatusChanged.class, this::onStatusChanged)
        .onMessage(TypingSeen.class, this::onTypingSeen)
        .onMessage(Tick.class, tick -> tick == Tick.POLL ? onPoll() : onRefreshWatches())
        .onMessage(Polled.class, this::onPolled)
        .onMessage(HubsChanged.class, this::onHubsChanged)
        .build();
  }

  // ---- a user's own devices -------------------------------------------------------------

  private Behavior<Message> onDeviceActive(DeviceActive active) {
    String userId = active.userId();
    announceIf(store.markOnline(userId), new StatusChanged(userId, true, null));
    return Behaviors.same();
  }

  private Behavior<Message> onDeviceGone(DeviceGone gone) {
    timers.startSingleTimer(
        "offline-" + gone.userId(),
        new OfflineDue(gone.userId(), gone.at()),
        settings.offlineDebounce());
    return Behaviors.same();
  }

  private Behavior<Message> onOfflineDue(OfflineDue due) {
    String userId = due.userId();
    announceIf(
        store.markOfflineIfGone(userId, due.at()), new StatusChanged(userId, false, due.at()));
    return Behaviors.same();
  }

  // ---- announcing to the hubs that want it ----------------------------------------------

  /** Once {@code happened} completes true, tells {@code change} to the hubs that want it. */
  private void announceIf(CompletionStage<Boolean> happened, Command change) {
    context.pipeToSelf(
        happened.thenCompose(
            yes -> yes ? nodesFor(change) : CompletableFuture.completedFuture(null)),
        (nodes, failure) -> {
          if (failure != null) {
            log.warn("presence update failed: {}", failure.toString());
          }
          return new Announce(change, nodes == null ? List.of() : nodes);
        });
  }

  private CompletionStage<List<String>> nodesFor(Command change) {
    return change instanceof TypingSeen typing
        ? store.viewersOf(typing.conversationId())
        : store.watchersOf(((StatusChanged) change).userId());
  }

  private Behavior<Message> onAnnounce(Announce announce) {
    for (String node : announce.nodes()) {
      ActorRef<Command> hub = hubs.get(node);
      if (hub != null) {
        hub.tell(announce.change());
        announcements.increment();
      }
    }
    return Behaviors.same();
  }

  private Behavior<Message> onTyping(Typing typing) {
    announceIf(
        CompletableFuture.completedFuture(true),
        new TypingSeen(typing.conversationId(), typing.userId()));
    return Behaviors.same();
  }

  private Behavior<Message> onHubsChanged(HubsChanged changed) {
    hubs.clear();
    for (ActorRef<Command> hub : changed.listing().getServiceInstances(KEY)) {
      hubs.put(NodeNames.of(hub.path().address(), selfNode), hub);
    }
    return Behaviors.same();
  }

  // ---- this node's viewers --------------------------------------------------------------

  private Behavior<Message> onView(View view) {
    ActorRef<Delivery> session = view.viewer();
    if (viewers.add(session, view.userId())) {
      context.watchWith(session, new ViewerGone(session));
    } else if (viewers.views(session, view.conversationId())) {
      unview(session, view.conversationId()); // members may have changed: view afresh
    }
    Viewers.Opened opened =
        viewers.view(session, view.userId(), view.conversationId(), view.members());
    // The statuses are read once the watch is in Redis: a viewer that has its first presence
    // frames is sure to hear of every later change and of typing.
    List<String> conversations =
        opened.newConversation() ? List.of(view.conversationId()) : List.of();
    CompletionStage<Void> watched =
        remember(store.watch(selfNode, opened.newlyWatched(), conversations), "watch");
    long startedAt = ++clock;
    context.pipeToSelf(
        watched.handle((ok, failure) -> null).thenCompose(any -> store.statuses(opened.others())),
        (statuses, failure) ->
            new ViewStatuses(session, startedAt, failure == null ? statuses : Map.of()));
    return Behaviors.same();
  }

  /** The current status of each member goes to the new viewer at once, changes to the others. */
  private Behavior<Message> onViewStatuses(ViewStatuses answer) {
    applyStatuses(answer.statuses(), answer.startedAt(), answer.viewer());
    for (String userId : answer.statuses().keySet()) {
      Status latest = known.get(userId);
      if (latest != null && viewers.watchersOf(userId).contains(answer.viewer())) {
        answer.viewer().tell(push(userId, latest));
      }
    }
    return Behaviors.same();
  }

  private Behavior<Message> unview(ActorRef<Delivery> session, String conversationId) {
    Viewers.Closed closed = viewers.unview(session, conversationId);
    if (closed == null) {
      return Behaviors.same();
    }
    for (String userId : closed.unwatched()) {
      known.remove(userId);
      changedAt.remove(userId);
    }
    List<String> conversations = closed.lastViewer() ? List.of(conversationId) : List.of();
    remember(store.unwatch(selfNode, closed.unwatched(), conversations), "unwatch");
    return Behaviors.same();
  }

  private Behavior<Message> onViewerGone(ActorRef<Delivery> session) {
    viewers.conversationsOf(session).forEach(conversation -> unview(session, conversation));
    viewers.remove(session);
    return Behaviors.same();
  }

  // ---- changes reaching this node -------------------------------------------------------

  private Behavior<Message> onStatusChanged(StatusChanged changed) {
    if (viewers.watches(changed.userId())) {
      changedAt.put(changed.userId(), ++clock);
      applyStatuses(
          Map.of(changed.userId(), new Status(changed.online(), changed.lastSeen())), clock, null);
    }
    return Behaviors.same();
  }

  private Behavior<Message> onTypingSeen(TypingSeen typing) {
    for (ActorRef<Delivery> session : viewers.viewersOf(typing.conversationId(), typing.userId())) {
      session.tell(new NodeRouter.TypingPush(typing.conversationId(), typing.userId()));
    }
    return Behaviors.same();
  }

  private Behavior<Message> onPoll() {
    if (!viewers.watchedUsers().isEmpty()) {
      long startedAt = ++clock;
      context.pipeToSelf(
          store.statuses(List.copyOf(viewers.watchedUsers())),
          (statuses, failure) -> new Polled(startedAt, failure == null ? statuses : Map.of()));
    }
    return Behaviors.same();
  }

  private Behavior<Message> onPolled(Polled polled) {
    applyStatuses(polled.statuses(), polled.startedAt(), null);
    return Behaviors.same();
  }

  /**
   * Pushes each status that differs from the last one pushed to the user's viewers ({@code except}
   * gets it from the caller). A status read before a newer announcement ({@code readAt} is earlier
   * than the user's {@code changedAt}) is stale and skipped.
   */
  private void applyStatuses(Map<String, Status> statuses, long readAt, ActorRef<Delivery> except) {
    statuses.forEach(
        (userId, status) -> {
          if (!viewers.watches(userId)
              || changedAt.getOrDefault(userId, Long.MIN_VALUE) > readAt) {
            return;
          }
          Status before = known.put(userId, status);
          if (before == null || before.online() != status.online()) {
            viewers.watchersOf(userId).stream()
                .filter(session -> !session.equals(except))
                .forEach(session -> session.tell(push(userId, status)));
          }
        });
  }

  private static NodeRouter.PresencePush push(String userId, Status status) {
    return new NodeRouter.PresencePush(userId, status.online(), status.lastSeen());
  }

  private Behavior<Message> onRefreshWatches() {
    remember(
        store.watch(selfNode, viewers.watchedUsers(), viewers.viewedConversations()),
        "watch refresh");
    return Behaviors.same();
  }

  /** Logs a failed write; the returned stage completes with it. */
  private CompletionStage<Void> remember(CompletionStage<Void> write, String what) {
    return write.whenComplete(
        (ok, failure) -> {
          if (failure != null) {
            log.warn("presence {} failed: {}", what, failure.toString());
          }
        });
  }
}
