package io.parley.routing;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.micrometer.core.instrument.Counter;
import io.parley.CborSerializable;
import io.parley.ops.Metrics;
import io.parley.pipeline.MessageRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: knows this node's connected devices and hands each {@link Envelope} to the sessions
 * it names. Other nodes find it through the receptionist ({@link #KEY}). On shutdown it drains the
 * node's sessions ({@link DrainAll}).
 *
 * <p>Its protocol is split by who may send it, and each sender gets a ref narrowed to its part:
 * other nodes' fan-outs only {@link Command} (the one part that crosses the cluster), the node's
 * sessions only {@link Local}, the drain only {@link DrainAll}, the Redis hook only {@link
 * RefreshAll}. The receptionist key keeps the type {@code Command}, its name on the wire, so nodes
 * of the previous release still find this one during a rolling deploy.
 *
 * <p>Best effort: a device that disconnected after it was located simply misses the push and
 * catches up with {@code sync}; nothing is buffered here.
 */
public final class NodeRouter {

  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "parley-node-router");

  /** Everything the router handles; it is never handed out whole. */
  public sealed interface Message
      permits Command, Local, DrainAll, RefreshAll, LeaveNow, DrainDeadline {}

  /** What other nodes send: the only part that crosses the cluster. */
  public sealed interface Command extends Message, CborSerializable permits Envelope {}

  /** What this node's sessions send. */
  public sealed interface Local extends Message permits Attach, Detach {}

  /** A message or receipt for some devices held by this node. */
  public record Envelope(Delivery delivery, List<Recipient> recipients) implements Command {}

  public record Recipient(String userId, String deviceId) implements CborSerializable {}

  /** Local only: a session announces the device it serves and where to reach it. */
  public record Attach(String userId, String deviceId, ActorRef<Delivery> inbox)
      implements Local {}

  public record Detach(String userId, String deviceId, ActorRef<Delivery> inbox)
      implements Local {}

  /**
   * Local only, on shutdown: every session is asked to {@link Leave}, one after the other, evenly
   * spaced within {@code spread}, so that its clients do not all reconnect to the survivors at
   * once. {@code replyTo} hears when all are gone, or once {@code spread} plus {@code grace}
   * passed.
   */
  public record DrainAll(Duration spread, Duration grace, ActorRef<Done> replyTo)
      implements Message {}

  private record LeaveNow(ActorRef<Delivery> session) implements Message {}

  /** Local only: every session registers again now (Redis came back and may have lost it). */
  public record RefreshAll() implements Message {}

  private enum DrainDeadline implements Message {
    INSTANCE
  }

  /** What the router (or the node's presence hub) hands a session. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Push.class, name = "message"),
    @JsonSubTypes.Type(value = ReceiptPush.class, name = "receipt"),
    @JsonSubTypes.Type(value = PresencePush.class, name = "presence"),
    @JsonSubTypes.Type(value = TypingPush.class, name = "typing"),
    @JsonSubTypes.Type(value = Leave.class, name = "leave"),
    @JsonSubTypes.Type(value = Refresh.class, name = "refresh")
  })
  public sealed interface Delivery extends CborSerializable {}

  /** A durable message. */
  public record Push(MessageRecord record) implements Delivery {}

  /** A member's devices have {@code kind} ("delivered" or "read") everything up to {@code seq}. */
  public record ReceiptPush(String conversationId, String userId, long seq, String kind)
      implements Delivery {}

  /** {@code lastSeen} is null while online, and for a user never seen. */
  public record PresencePush(String userId, boolean online, Instant lastSeen) implements Delivery {}

  public record TypingPush(String conversationId, String userId) implements Delivery {}

  /** Tell the client to reconnect elsewhere, then close. */
  public record Leave(String reason) implements Delivery {}

  /** Register in the connection registry now, as on a heartbeat. */
  public record Refresh() implements Delivery {}

  private final Map<Recipient, ActorRef<Delivery>> sessions = new HashMap<>();
  private final ActorContext<Message> context;
  private final TimerScheduler<Message> timers;
  private final Counter envelopes;
  private final Counter pushes;
  private boolean draining;
  private ActorRef<Done> drainWaiter;

  private NodeRouter(
      ActorContext<Message> context, TimerScheduler<Message> timers, Metrics metrics) {
    this.context = context;
    this.timers = timers;
    envelopes =
        metrics.counter("parley_envelopes_received_total", "Envelopes this node's router received");
    pushes =
        metrics.counter(
            "parley_deliveries_pushed_total", "Messages and receipts handed to local sessions");
  }

  public static Behavior<Message> create() {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  context
                      .getSystem()
                      .receptionist()
                      .tell(Receptionist.register(KEY, context.getSelf().<Command>narrow()));
                  return new NodeRouter(context, timers, Metrics.get(context.getSystem()))
                      .behavior();
                }));
  }

  private Behavior<Message> behavior() {
    return Behaviors.receive(Message.class)
        .onMessage(Attach.class, this::onAttach)
        .onMessage(Detach.class, this::onDetach)
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onMessage(LeaveNow.class, leave -> leave(leave.session()))
        .onMessage(RefreshAll.class, refresh -> refreshAll())
        .onMessage(DrainDeadline.class, deadline -> drainedIfEmpty(true))
        .build();
  }

  private Behavior<Message> onAttach(Attach attach) {
    sessions.put(new Recipient(attach.userId(), attach.deviceId()), attach.inbox());
    // A session that dies without detaching must not keep receiving.
    context.watchWith(
        attach.inbox(), new Detach(attach.userId(), attach.deviceId(), attach.inbox()));
    return draining ? leave(attach.inbox()) : Behaviors.same();
  }

  private Behavior<Message> onDetach(Detach detach) {
    // Only the session that attached may detach: the device may have reconnected since.
    sessions.remove(new Recipient(detach.userId(), detach.deviceId()), detach.inbox());
    return drainedIfEmpty(false);
  }

  private Behavior<Message> onEnvelope(Envelope envelope) {
    envelopes.increment();
    for (Recipient recipient : envelope.recipients()) {
      ActorRef<Delivery> session = sessions.get(recipient);
      if (session != null) {
        session.tell(envelope.delivery());
        pushes.increment();
      }
    }
    return Behaviors.same();
  }

  private Behavior<Message> onDrainAll(DrainAll drain) {
    draining = true;
    drainWaiter = drain.replyTo();
    // Evenly spaced, not random: the survivors take reconnects at a steady rate, and no two
    // sessions leave at once by chance.
    Duration gap = sessions.isEmpty() ? Duration.ZERO : drain.spread().dividedBy(sessions.size());
    Duration at = Duration.ZERO;
    for (ActorRef<Delivery> session : sessions.values()) {
      timers.startSingleTimer(session, new LeaveNow(session), at);
      at = at.plus(gap);
    }
    timers.startSingleTimer(DrainDeadline.INSTANCE, drain.spread().plus(drain.grace()));
    return drainedIfEmpty(false);
  }

  private Behavior<Message> refreshAll() {
    context.getLog().info("re-registering {} local sessions", sessions.size());
    sessions.values().forEach(session -> session.tell(new Refresh()));
    return Behaviors.same();
  }

  private Behavior<Message> leave(ActorRef<Delivery> session) {
    session.tell(new Leave("draining"));
    return Behaviors.same();
  }

  private Behavior<Message> drainedIfEmpty(boolean deadline) {
    if (drainWaiter != null && (sessions.isEmpty() || deadline)) {
      drainWaiter.tell(Done.getInstance());
      drainWaiter = null;
    }
    return Behaviors.same();
  }
}
