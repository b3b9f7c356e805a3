package io.parley.gateway;

import io.parley.conversation.Conversation;
import io.parley.history.HistoryService;
import io.parley.presence.PresenceHub;
import io.parley.registry.ConnectionRegistry;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * One connected device, on the node that holds its socket. It registers the device in Redis
 * (refreshed every heartbeat, removed on close), attaches to the node's {@link NodeRouter} for
 * pushes, turns client frames into conversation commands, and writes answers and pushes to the
 * bounded {@link Outbound} buffer.
 *
 * <p>Bounded: at most {@code maxInFlight} client requests are outstanding; past that the socket is
 * not read (backpressure), so a fast client cannot grow this actor's mailbox. A client that does
 * not drain its pushes is told {@code reconnect} with reason {@code slow_consumer} and, if it still
 * does not read, dropped.
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

  /** {@code askedAt}: System.nanoTime() when the frame was read. */
  private record ConversationReplied(
      ClientFrame frame, long askedAt, Conversation.Reply reply, Throwable failure)
      implements Command {}

  private record HistoryAnswered(
      ClientFrame.Sync sync, HistoryService.Answer answer, Throwable failure) implements Command {}

  private enum Heartbeat implements Command {
    INSTANCE
  }

  private record Registered(boolean ok) implements Command {}

  private enum OutboundTimeout implements Command {
    INSTANCE
  }

  private enum SlowClientDeadline implements Command {
    INSTANCE
  }

  /** What a session needs from its node. */
  public record Settings(
      String node,
      ConnectionRegistry registry,
      ActorRef<NodeRouter.Local> router,
      Duration heartbeatInterval,
      Duration askTimeout,
      int maxInFlight,
      /* how long a client told to reconnect as a slow consumer may take to read its last frames */
      Duration slowClientGrace,
      RateLimits.Settings rateLimits,
      HistoryService history,
      ActorRef<PresenceHub.Local> presence,
      /* conversations a connection may have open at once */
      int maxOpen) {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String userId;
  private final String deviceId;
  private final Settings settings;
  private final ActorRef<NodeRouter.Delivery> inbox;
  private final Deque<ActorRef<StreamAck>> heldAcks = new ArrayDeque<>();
  private Outbound outbound;
  private int inFlight;
  private boolean slowClient;

  /** Set when the node drains: the session closes once its outstanding requests are answered. */
  private String leaveReason;

  private final RateLimits rateLimits;
  private final GatewayMetrics metrics;

  /** Conversations this device has open: it sees their presence and typing. */
  private final Set<String> opened = new HashSet<>();

  private Session(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String userId,
      String deviceId,
      Settings settings) {
    this.context = context;
    this.timers = timers;
    this.userId = userId;
    this.deviceId = deviceId;
    this.settings = settings;
    this.inbox = context.messageAdapter(NodeRouter.Delivery.class, Routed::new);
    this.rateLimits = new RateLimits(settings.rateLimits());
    this.metrics = GatewayMetrics.get(context.getSystem());
  }

  public static Behavior<Command> create(String userId, String deviceId, Settings settings) {
    // Every log line of this session names its user and device (fields of the JSON log format).
    return Behaviors.withMdc(
        Command.class,
        Map.of("userId", userId, "deviceId", deviceId),
        connecting(userId, deviceId, settings));
  }

  private static Behavior<Command> connecting(String userId, String deviceId, Settings settings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  // The socket stage materializes right after the upgrade; give up if it never
                  // does.
                  timers.startSingleTimer(OutboundTimeout.INSTANCE, Duration.ofSeconds(30));
                  return new Session(context, timers, userId, deviceId, settings)
                      .awaitingOutbound();
                }));
  }

  private Behavior<Command> awaitingOutbound() {
    return Behaviors.withStash(
        STASH_LIMIT,
        stash ->
            Behaviors.receive(Command.class)
                .onMessage(
                    OutboundReady.class,
                    ready -> {
                      timers.cancel(OutboundTimeout.INSTANCE);
                      outbound = ready.outbound();
                      metrics.connections.incrementAndGet(); // cleanUp counts it out
                      return registering(stash);
                    })
                .onMessage(OutboundTimeout.class, timeout -> Behaviors.stopped())
                .onMessage(ClientGone.class, gone -> Behaviors.stopped())
                .onAnyMessage(message -> stashed(stash, message))
                .build());
  }

  /**
   * {@code welcome} promises pushes, so it waits until the device is in the registry (or that
   * failed: the client still gets history through {@code sync}).
   */
  private Behavior<Command> registering(StashBuffer<Command> stash) {
    context.pipeToSelf(
        settings.registry().register(userId, deviceId, settings.node()),
        (ok, failure) -> new Registered(failure == null));
    return Behaviors.receive(Command.class)
        .onMessage(
            Registered.class,
            registered -> {
              if (!registered.ok()) {
                metrics.registryErrors.increment();
                context
                    .getLog()
                    .warn(
                        "could not register a device of {}; pushes may miss it until the next"
                            + " heartbeat",
                        userId);
              }
              push(
                  new ServerFrame.Welcome(
                      userId,
                      deviceId,
                      settings.node(),
                      (int) settings.heartbeatInterval().toSeconds()));
              settings.router().tell(new NodeRouter.Attach(userId, deviceId, inbox));
              settings.presence().tell(new PresenceHub.DeviceActive(userId));
              timers.startTimerAtFixedRate(Heartbeat.INSTANCE, settings.heartbeatInterval());
              return stash.unstashAll(connected());
            })
        .onMessage(ClientGone.class, gone -> Behaviors.stopped(this::cleanUp))
        .onAnyMessage(message -> stashed(stash, message))
        .build();
  }

  private static Behavior<Command> stashed(StashBuffer<Command> stash, Command message) {
    stash.stash(message);
    return Behaviors.same();
  }

  private Behavior<Command> connected() {
    return Behaviors.receive(Command.class)
        .onMessage(
            StreamStarted.class,
            started -> {
              started.ackTo().tell(StreamAck.INSTANCE);
              return Behaviors.same();
            })
        .onMessage(Inbound.class, this::onInbound)
        .onMessage(ConversationReplied.class, this::onConversationReplied)
        .onMessage(Routed.class, this::onRouted)
        .onMessage(HistoryAnswered.class, this::onHistoryAnswered)
        .onMessage(
            LeaveDeadline.class,
            deadline -> {
              finishWithReconnect();
              return Behaviors.same();
            })
        .onMessage(
            Heartbeat.class,
            beat -> {
              heartbeat();
              return Behaviors.same();
            })
        .onMessage(
            SlowClientDeadline.class,
            deadline -> {
              outbound.abort("slow consumer did not read its last frames");
              return Behaviors.stopped();
            })
        .onMessage(ClientGone.class, gone -> Behaviors.stopped())
        .onSignal(
            PostStop.class,
            stopped -> {
              cleanUp();
              return Behaviors.same();
            })
        .build();
  }

  private Behavior<Command> onRouted(Routed routed) {
    NodeRouter.Delivery delivery = routed.delivery();
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
    } else if (routed.delivery() instanceof NodeRouter.Leave leave && leaveReason == null) {
      // Answers to requests already made still go out; then `reconnect` and the close.
      leaveReason = leave.reason();
      timers.startSingleTimer(LeaveDeadline.INSTANCE, settings.askTimeout());
      closeIfLeavingAndIdle();
    }
    return Behaviors.same();
  }

  /** The registry entry and presence, refreshed on each heartbeat (and when Redis came back). */
  private void heartbeat() {
    refreshRegistration();
    settings.presence().tell(new PresenceHub.DeviceActive(userId));
  }

  private void closeIfLeavingAndIdle() {
    if (leaveReason != null && inFlight == 0) {
      finishWithReconnect();
    }
  }

  private void finishWithReconnect() {
    outbound.finishWith(new ServerFrame.Reconnect(leaveReason));
  }

  private Behavior<Command> onInbound(Inbound inbound) {
    Received received = inbound.received();
    if (leaveReason != null) {
      push(
          ServerFrames.error(ErrorCode.UNAVAILABLE, "this node is shutting down; reconnect", null));
      inbound.ackTo().tell(StreamAck.INSTANCE);
      return Behaviors.same();
    }
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
    } else if (received instanceof Received.Text text
        && text.decoded() instanceof DecodeResult.Invalid invalid) {
      push(invalid.error());
    } else if (received instanceof Received.Text text
        && text.decoded() instanceof DecodeResult.Decoded decoded) {
      onFrame(decoded.frame());
    }
    if (inFlight < settings.maxInFlight()) {
      inbound.ackTo().tell(StreamAck.INSTANCE);
    } else {
      heldAcks.add(inbound.ackTo()); // read the socket again once an answer comes back
    }
    return Behaviors.same();
  }

  private void onFrame(ClientFrame frame) {
    RateLimits.Verdict verdict = rateLimits.check(frame);
    if (verdict == RateLimits.Verdict.ABUSIVE) {
      outbound.finishWith(
          ServerFrames.error(
              ErrorCode.RATE_LIMITED,
              "far over the rate limit; closing",
              ServerFrames.refOf(frame)));
    } else if (verdict == RateLimits.Verdict.LIMITED) {
      push(ServerFrames.error(ErrorCode.RATE_LIMITED, "slow down", ServerFrames.refOf(frame)));
    } else if (frame instanceof ClientFrame.Ping) {
      push(new ServerFrame.Pong());
    } else if (frame instanceof ClientFrame.Send send) {
      metrics.sends.increment();
      askConversation(
          frame,
          send.conversationId(),
          replyTo ->
              new Conversation.Send(userId, deviceId, send.idempotencyKey(), send.body(), replyTo));
    } else if (frame instanceof ClientFrame.Sync sync) {
      inFlight++;
      context.pipeToSelf(
          settings.history().after(userId, sync.conversationId(), sync.afterSeq(), sync.limit()),
          (answer, failure) -> new HistoryAnswered(sync, answer, failure));
    } else if (frame instanceof ClientFrame.Receipt receipt) {
      askConversation(
          frame,
          receipt.conversationId(),
          replyTo ->
              new Conversation.MarkReceipt(
                  userId,
                  deviceId,
                  receipt.seq(),
                  Conversation.ReceiptKind.valueOf(receipt.kind().toUpperCase(Locale.ROOT)),
                  replyTo));
    } else if (frame instanceof ClientFrame.Close close && opened.remove(close.conversationId())) {
      settings.presence().tell(new PresenceHub.Unview(inbox, close.conversationId()));
    } else if (frame instanceof ClientFrame.Typing typing
        && opened.contains(typing.conversationId())) {
      settings.presence().tell(new PresenceHub.Typing(typing.conversationId(), userId));
    } else if (frame instanceof ClientFrame.Open open
        && opened.size() >= settings.maxOpen()
        && !opened.contains(open.conversationId())) {
      push(
          ServerFrames.error(
              ErrorCode.BAD_REQUEST,
              "at most " + settings.maxOpen() + " conversations may be open; close one first",
              frame.type()));
    } else if (frame instanceof ClientFrame.ConversationFrame about) {
      // Opening, closing or typing in a conversation not open here: only members may (a member's
      // close of a conversation not open changes nothing).
      askConversation(
          frame, about.conversationId(), replyTo -> new Conversation.GetInfo(userId, replyTo));
    }
  }

  private void askConversation(
      ClientFrame frame,
      String conversationId,
      org.apache.pekko.japi.function.Function<ActorRef<Conversation.Reply>, Conversation.Command>
          command) {
    inFlight++;
    long askedAt = System.nanoTime();
    EntityRef<Conversation.Command> conversation =
        ClusterSharding.get(context.getSystem())
            .entityRefFor(Conversation.ENTITY_KEY, conversationId);
    context.ask(
        Conversation.Reply.class,
        conversation,
        settings.askTimeout(),
        command,
        (reply, failure) -> new ConversationReplied(frame, askedAt, reply, failure));
  }

  private Behavior<Command> onHistoryAnswered(HistoryAnswered answered) {
    answerArrived();
    ClientFrame.Sync sync = answered.sync();
    if (answered.failure() != null) {
      push(
          ServerFrames.error(
              ErrorCode.UNAVAILABLE, "history is unavailable, try again", sync.type()));
    } else if (answered.answer() instanceof HistoryService.Answer.Refused refused) {
      push(ServerFrames.rejected(refused.rejected(), sync.type()));
    } else if (answered.answer() instanceof HistoryService.Answer.Found found) {
      push(ServerFrames.history(sync.conversationId(), found));
    }
    closeIfLeavingAndIdle();
    return Behaviors.same();
  }

  /** One outstanding request less: read the socket again if it was paused. */
  private void answerArrived() {
    inFlight--;
    ActorRef<StreamAck> held = heldAcks.poll();
    if (held != null) {
      held.tell(StreamAck.INSTANCE);
    }
  }

  private Behavior<Command> onConversationReplied(ConversationReplied replied) {
    answerArrived();
    String ref = ServerFrames.refOf(replied.frame());
    Conversation.Reply reply = replied.reply();
    if (replied.failure() != null) {
      push(
          ServerFrames.error(
              ErrorCode.UNAVAILABLE, "the conversation did not answer in time", ref));
    } else if (reply instanceof Conversation.Rejected rejected) {
      push(ServerFrames.rejected(rejected, ref));
    } else if (reply instanceof Conversation.Acked acked) {
      metrics.acks.increment();
      metrics.ackLatency.record(System.nanoTime() - replied.askedAt(), TimeUnit.NANOSECONDS);
      push(
          new ServerFrame.Ack(
              acked.conversationId(), acked.idempotencyKey(), acked.seq(), acked.sentAt()));
    } else if (reply instanceof Conversation.Info info) {
      onMember(replied.frame(), info);
    }
    // An accepted receipt has no answer: the other devices get it.
    closeIfLeavingAndIdle();
    return Behaviors.same();
  }

  /** The membership check of an {@code open} or {@code typing} passed. */
  private void onMember(ClientFrame frame, Conversation.Info info) {
    if (frame instanceof ClientFrame.Open open && opened.add(open.conversationId())) {
      settings
          .presence()
          .tell(new PresenceHub.View(inbox, userId, open.conversationId(), info.members()));
    } else if (frame instanceof ClientFrame.Typing typing) {
      settings.presence().tell(new PresenceHub.Typing(typing.conversationId(), userId));
    }
  }

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

  private void refreshRegistration() {
    settings
        .registry()
        .register(userId, deviceId, settings.node())
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                metrics.registryErrors.increment();
                context
                    .getLog()
                    .warn(
                        "registry refresh failed for a device of {}: {}",
                        userId,
                        failure.toString());
              }
            });
  }

  private void cleanUp() {
    metrics.connections.decrementAndGet();
    timers.cancelAll();
    settings.router().tell(new NodeRouter.Detach(userId, deviceId, inbox));
    ActorRef<PresenceHub.Local> presence = settings.presence();
    presence.tell(new PresenceHub.ViewerGone(inbox));
    Instant gone = Instant.now();
    // Presence checks the registry for other devices, so it hears of this one after removal.
    settings
        .registry()
        .unregister(userId, deviceId, settings.node())
        .whenComplete(
            (removed, failure) -> presence.tell(new PresenceHub.DeviceGone(userId, gone)));
    outbound.complete();
  }
}
