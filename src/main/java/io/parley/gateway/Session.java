package io.parley.gateway;

import com.typesafe.config.Config;
import io.parley.history.HistoryService;
import io.parley.presence.PresenceHub;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One connected device, on the node that holds its socket. It registers the device in Redis
 * (refreshed every heartbeat, removed on close), attaches to the node's {@link NodeRouter} for
 * pushes, turns client frames into conversation commands, and writes answers and pushes to the
 * bounded {@link Outbound} buffer. Sessions are children of the node's {@link Sessions}.
 *
 * <p>Bounded: at most {@code maxInFlight} client requests are outstanding; past that the socket is
 * not read (backpressure), so a fast client cannot grow this actor's mailbox. A client that does
 * not drain its pushes is told {@code reconnect} with reason {@code slow_consumer} and, if it still
 * does not read, dropped.
 *
 * <p>Best effort on the registry: a failed registration or refresh is logged and counted, and the
 * session keeps serving its socket (the client catches up on missed pushes with {@code sync}).
 */
public final class Session {

  public interface Command {}

  /** Frames a client may send before its session is ready (they are answered once it is). */
  private static final int STASH_LIMIT = 100;

  /** Sent by the socket's inbound stage, which waits for {@code ackTo} before the next frame. */
  public record Inbound(Received received, ActorRef<StreamAck> ackTo) implements Command {}

  /** What the socket delivered: a text frame's decoding, or a frame refused unread. */
  public sealed interface Received {
    record Text(DecodeResult decoded) implements Received {}

    /** A frame over the size limit: abuse, answered and closed. */
    record Oversized(int limit) implements Received {}

    record Binary() implements Received {}
  }

  public record StreamStarted(ActorRef<StreamAck> ackTo) implements Command {}

  public enum StreamAck {
    INSTANCE
  }

  public record OutboundReady(Outbound outbound) implements Command {}

  public enum ClientGone implements Command {
    INSTANCE
  }

  private record Routed(NodeRouter.Delivery delivery) implements Command {}

  private enum LeaveDeadline implements Command {
    INSTANCE
  }

  private enum Heartbeat implements Command {
    INSTANCE
  }

  /** The first registration's outcome: {@code failure} is null when it succeeded. */
  private record Registered(Throwable failure) implements Command {}

  /** A heartbeat's refresh of the registry entry: {@code failure} is null when it succeeded. */
  private record Refreshed(Throwable failure) implements Command {}

  private enum OutboundTimeout implements Command {
    INSTANCE
  }

  private enum SlowClientDeadline implements Command {
    INSTANCE
  }

  /** A session's configuration ({@code parley.gateway}, and the presence limit per connection). */
  public record Settings(
      Duration heartbeatInterval,
      Duration askTimeout,
      int maxInFlight,
      /* how long a client told to reconnect as a slow consumer may take to read its last frames */
      Duration slowClientGrace,
      RateLimits.Settings rateLimits,
      /* conversations a connection may have open at once */
      int maxOpen) {

    /** From the whole configuration: {@code parley.gateway} and {@code parley.presence}. */
    public static Settings fromConfig(Config config) {
      Config gateway = config.getConfig("parley.gateway");
      return new Settings(
          gateway.getDuration("heartbeat-interval"),
          gateway.getDuration("ask-timeout"),
          gateway.getInt("max-in-flight"),
          gateway.getDuration("slow-client-grace"),
          RateLimits.Settings.fromConfig(gateway.getConfig("rate-limit")),
          config.getInt("parley.presence.max-open-per-connection"));
    }
  }

  /** What a session uses of its node, handed in by the wiring ({@code node}: its registry name). */
  public record Dependencies(
      String node,
      DeviceRegistration registry,
      ActorRef<NodeRouter.Local> router,
      HistoryService history,
      ActorRef<PresenceHub.Local> presence) {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String userId;
  private final String deviceId;
  private final Settings settings;
  private final Dependencies node;
  private final ActorRef<NodeRouter.Delivery> inbox;
  private final RateLimits rateLimits;
  private final ClientRequests requests;
  private final GatewayMetrics metrics;
  private Outbound outbound;
  private boolean slowClient;

  /** Set when the node drains: the session closes once its outstanding requests are answered. */
  private String leaveReason;

  private Session(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String userId,
      String deviceId,
      Settings settings,
      Dependencies node) {
    this.context = context;
    this.timers = timers;
    this.userId = userId;
    this.deviceId = deviceId;
    this.settings = settings;
    this.node = node;
    this.inbox = context.messageAdapter(NodeRouter.Delivery.class, Routed::new);
    this.rateLimits = new RateLimits(settings.rateLimits());
    this.requests =
        new ClientRequests(context, userId, deviceId, settings, node, inbox, this::push);
    this.metrics = GatewayMetrics.get(context.getSystem());
  }

  public static Behavior<Command> create(
      String userId, String deviceId, Settings settings, Dependencies node) {
    // Every log line of this session names its user and device (fields of the JSON log format).
    return Behaviors.withMdc(
        Command.class,
        Map.of("userId", userId, "deviceId", deviceId),
        Behaviors.setup(
            context ->
                Behaviors.withTimers(
                    timers -> {
                      // The socket stage materializes right after the upgrade; give up if it
                      // never does.
                      timers.startSingleTimer(OutboundTimeout.INSTANCE, Duration.ofSeconds(30));
                      return new Session(context, timers, userId, deviceId, settings, node)
                          .awaitingOutbound();
                    })));
  }

  // ---- Lifecycle: outbound, then registration, then connected ----

  private Behavior<Command> awaitingOutbound() {
    return Behaviors.withStash(
        STASH_LIMIT,
        stash ->
            Behaviors.receive(Command.class)
                .onMessage(OutboundReady.class, ready -> onOutboundReady(ready, stash))
                .onMessage(OutboundTimeout.class, timeout -> Behaviors.stopped())
                .onMessage(ClientGone.class, gone -> Behaviors.stopped())
                .onAnyMessage(message -> stashed(stash, message))
                .build());
  }

  private Behavior<Command> onOutboundReady(OutboundReady ready, StashBuffer<Command> stash) {
    timers.cancel(OutboundTimeout.INSTANCE);
    outbound = ready.outbound();
    metrics.connections.incrementAndGet(); // cleanUp counts it out
    // `welcome` promises pushes, so it waits until the device is in the registry (or that failed:
    // the client still gets history through `sync`).
    context.pipeToSelf(
        node.registry().register(userId, deviceId, node.node()),
        (ok, failure) -> new Registered(failure));
    return Behaviors.receive(Command.class)
        .onMessage(Registered.class, registered -> onRegistered(registered, stash))
        .onMessage(ClientGone.class, gone -> Behaviors.stopped(this::cleanUp))
        .onAnyMessage(message -> stashed(stash, message))
        .build();
  }

  private Behavior<Command> onRegistered(Registered registered, StashBuffer<Command> stash) {
    if (registered.failure() != null) {
      metrics.registryErrors.increment();
      context
          .getLog()
          .warn(
              "could not register a device of {}; pushes may miss it until the next heartbeat",
              userId);
    }
    push(
        new ServerFrame.Welcome(
            userId, deviceId, node.node(), (int) settings.heartbeatInterval().toSeconds()));
    node.router().tell(new NodeRouter.Attach(userId, deviceId, inbox));
    node.presence().tell(new PresenceHub.DeviceActive(userId));
    timers.startTimerAtFixedRate(Heartbeat.INSTANCE, settings.heartbeatInterval());
    return stash.unstashAll(connected());
  }

  private static Behavior<Command> stashed(StashBuffer<Command> stash, Command message) {
    stash.stash(message);
    return Behaviors.same();
  }

  private Behavior<Command> connected() {
    return Behaviors.receive(Command.class)
        .onMessage(StreamStarted.class, started -> acked(started.ackTo()))
        .onMessage(Inbound.class, this::onInbound)
        .onMessage(ClientRequests.Answer.class, this::onAnswer)
        .onMessage(Routed.class, routed -> onDelivery(routed.delivery()))
        .onMessage(Heartbeat.class, beat -> heartbeat())
        .onMessage(Refreshed.class, this::onRefreshed)
        .onMessage(LeaveDeadline.class, deadline -> finishWithReconnect())
        .onMessage(SlowClientDeadline.class, deadline -> onSlowClientDeadline())
        .onMessage(ClientGone.class, gone -> Behaviors.stopped())
        .onSignal(PostStop.class, stopped -> cleanUp())
        .build();
  }

  private Behavior<Command> acked(ActorRef<StreamAck> ackTo) {
    ackTo.tell(StreamAck.INSTANCE);
    return Behaviors.same();
  }

  // ---- Pushes from the router and the presence hub ----

  private Behavior<Command> onDelivery(NodeRouter.Delivery delivery) {
    if (delivery instanceof NodeRouter.Push push) {
      metrics.deliveryLatency.record(
          Duration.between(push.record().sentAt(), Instant.now()).toNanos(), TimeUnit.NANOSECONDS);
      push(ServerFrames.message(push.record()));
    } else if (delivery instanceof NodeRouter.ReceiptPush receipt) {
      push(ServerFrames.receipt(receipt));
    } else if (delivery instanceof NodeRouter.PresencePush presence) {
      push(ServerFrames.presence(presence));
    } else if (delivery instanceof NodeRouter.TypingPush typing) {
      push(new ServerFrame.TypingNotice(typing.conversationId(), typing.userId()));
    } else if (delivery instanceof NodeRouter.Refresh) {
      heartbeat();
    } else if (delivery instanceof NodeRouter.Leave leave) {
      onLeave(leave);
    }
    return Behaviors.same();
  }

  /** The node drains: answers to requests already made still go out; then the close. */
  private void onLeave(NodeRouter.Leave leave) {
    if (leaveReason == null) {
      leaveReason = leave.reason();
      timers.startSingleTimer(LeaveDeadline.INSTANCE, settings.askTimeout());
      closeIfLeavingAndIdle();
    }
  }

  private void closeIfLeavingAndIdle() {
    if (leaveReason != null && requests.idle()) {
      finishWithReconnect();
    }
  }

  private Behavior<Command> finishWithReconnect() {
    outbound.finishWith(new ServerFrame.Reconnect(leaveReason));
    return Behaviors.same();
  }

  // ---- Registry and presence upkeep ----

  /** The registry entry and presence, refreshed on each heartbeat (and when Redis came back). */
  private Behavior<Command> heartbeat() {
    // The outcome comes back as a message: the log may only be used on the actor's own thread.
    context.pipeToSelf(
        node.registry().register(userId, deviceId, node.node()),
        (ok, failure) -> new Refreshed(failure));
    node.presence().tell(new PresenceHub.DeviceActive(userId));
    return Behaviors.same();
  }

  private Behavior<Command> onRefreshed(Refreshed refreshed) {
    if (refreshed.failure() != null) {
      metrics.registryErrors.increment();
      context
          .getLog()
          .warn(
              "registry refresh failed for a device of {}: {}",
              userId,
              refreshed.failure().toString());
    }
    return Behaviors.same();
  }

  private Behavior<Command> cleanUp() {
    metrics.connections.decrementAndGet();
    timers.cancelAll();
    node.router().tell(new NodeRouter.Detach(userId, deviceId, inbox));
    ActorRef<PresenceHub.Local> presence = node.presence();
    presence.tell(new PresenceHub.ViewerGone(inbox));
    Instant gone = Instant.now();
    // Presence checks the registry for other devices, so it hears of this one after removal.
    node.registry()
        .unregister(userId, deviceId, node.node())
        .whenComplete(
            (removed, failure) -> presence.tell(new PresenceHub.DeviceGone(userId, gone)));
    outbound.complete();
    return Behaviors.same();
  }

  // ---- The socket: one frame at a time ----

  private Behavior<Command> onInbound(Inbound inbound) {
    if (leaveReason != null) {
      push(
          ServerFrames.error(ErrorCode.UNAVAILABLE, "this node is shutting down; reconnect", null));
      return acked(inbound.ackTo());
    }
    Received received = inbound.received();
    if (received instanceof Received.Oversized oversized) {
      outbound.finishWith(
          ServerFrames.error(
              ErrorCode.TOO_LARGE,
              "frames are limited to " + oversized.limit() + " characters; closing",
              null));
      return Behaviors.same(); // the socket closes, then ClientGone stops this session
    }
    if (received instanceof Received.Binary) {
      push(ServerFrames.error(ErrorCode.BAD_REQUEST, "binary frames are not supported", null));
    } else if (received instanceof Received.Text text) {
      onDecoded(text.decoded());
    }
    requests.readNextOrHold(inbound.ackTo());
    return Behaviors.same();
  }

  private void onDecoded(DecodeResult decoded) {
    if (decoded instanceof DecodeResult.Invalid invalid) {
      push(invalid.error());
    } else if (decoded instanceof DecodeResult.Decoded valid && withinRateLimit(valid.frame())) {
      requests.onFrame(valid.frame());
    }
  }

  /** False when the frame was refused: {@code rate_limited}, or the close of an abusive client. */
  private boolean withinRateLimit(ClientFrame frame) {
    RateLimits.Verdict verdict = rateLimits.check(frame);
    if (verdict == RateLimits.Verdict.ABUSIVE) {
      outbound.finishWith(
          ServerFrames.error(
              ErrorCode.RATE_LIMITED,
              "far over the rate limit; closing",
              ServerFrames.refOf(frame)));
    } else if (verdict == RateLimits.Verdict.LIMITED) {
      push(ServerFrames.rateLimited(ServerFrames.refOf(frame), rateLimits.retryAfter()));
    }
    return verdict == RateLimits.Verdict.ALLOWED;
  }

  private Behavior<Command> onAnswer(ClientRequests.Answer answer) {
    requests.onAnswer(answer);
    closeIfLeavingAndIdle();
    return Behaviors.same();
  }


  // ---- Outbound ----

  private void push(ServerFrame frame) {
    if (slowClient) {
      return;
    }
    metrics.outboundDepth.record(outbound.depth());
    if (!outbound.offer(frame)) {
      slowClient = true;
      outbound.finishWith(new ServerFrame.Reconnect("slow_consumer"));
      timers.startSingleTimer(SlowClientDeadline.INSTANCE, settings.slowClientGrace());
    }
  }

  private Behavior<Command> onSlowClientDeadline() {
    outbound.abort("slow consumer did not read its last frames");
    return Behaviors.stopped();
  }
}
