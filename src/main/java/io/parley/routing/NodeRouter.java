package io.parley.routing;

import io.micrometer.core.instrument.Counter;
import io.parley.CborSerializable;
import io.parley.ops.Metrics;
import io.parley.pipeline.MessageRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: knows this node's connected devices and hands each {@link Envelope} to the sessions
 * it names. Other nodes find it through the receptionist ({@link #KEY}).
 *
 * <p>Best effort: a device that disconnected after it was located simply misses the push and
 * catches up with {@code sync}; nothing is buffered here.
 */
public final class NodeRouter {

  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "parley-node-router");

  public interface Command extends CborSerializable {}

  /** A durable message for some devices held by this node. */
  public record Envelope(MessageRecord record, List<Recipient> recipients) implements Command {}

  public record Recipient(String userId, String deviceId) implements CborSerializable {}

  /** Local only: a session announces the device it serves and where to push messages. */
  public record Attach(String userId, String deviceId, ActorRef<MessageRecord> inbox)
      implements Command {}

  public record Detach(String userId, String deviceId, ActorRef<MessageRecord> inbox)
      implements Command {}

  private final Map<Recipient, ActorRef<MessageRecord>> sessions = new HashMap<>();
  private final Counter envelopes;
  private final Counter pushes;

  private NodeRouter(Metrics metrics) {
    envelopes =
        metrics.counter("parley_envelopes_received_total", "Envelopes this node's router received");
    pushes = metrics.counter("parley_messages_pushed_total", "Messages handed to local sessions");
  }

  public static Behavior<Command> create() {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
          return new NodeRouter(Metrics.get(context.getSystem())).behavior(context);
        });
  }

  private Behavior<Command> behavior(ActorContext<Command> context) {
    return Behaviors.receive(Command.class)
        .onMessage(Attach.class, attach -> onAttach(context, attach))
        .onMessage(Detach.class, this::onDetach)
        .onMessage(Envelope.class, this::onEnvelope)
        .build();
  }

  private Behavior<Command> onAttach(ActorContext<Command> context, Attach attach) {
    sessions.put(new Recipient(attach.userId(), attach.deviceId()), attach.inbox());
    // A session that dies without detaching must not keep receiving.
    context.watchWith(
        attach.inbox(), new Detach(attach.userId(), attach.deviceId(), attach.inbox()));
    return Behaviors.same();
  }

  private Behavior<Command> onDetach(Detach detach) {
    // Only the session that attached may detach: the device may have reconnected since.
    sessions.remove(new Recipient(detach.userId(), detach.deviceId()), detach.inbox());
    return Behaviors.same();
  }

  private Behavior<Command> onEnvelope(Envelope envelope) {
    envelopes.increment();
    for (Recipient recipient : envelope.recipients()) {
      ActorRef<MessageRecord> session = sessions.get(recipient);
      if (session != null) {
        session.tell(envelope.record());
        pushes.increment();
      }
    }
    return Behaviors.same();
  }
}
