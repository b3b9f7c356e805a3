package io.parley.gateway;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One per node: the parent of the node's {@link Session}s, one child per WebSocket connection.
 *
 * <p>A session that ends, normally or by failing, ends alone: the parent does not watch its
 * children, so neither it nor the other sessions hear of it (a failed session is stopped, Pekko's
 * default, never restarted: its socket is gone with it). Stopping the parent stops every session.
 */
public final class Sessions {

  public interface Command {}

  /** Starts a session for a device that just connected; {@code replyTo} gets its ref. */
  public record Connect(String userId, String deviceId, ActorRef<ActorRef<Session.Command>> replyTo)
      implements Command {}

  private final ActorContext<Command> context;
  private final Session.Settings settings;
  private final Session.Dependencies node;

  /** Names children uniquely: a device may reconnect while its old session still closes. */
  private long connections;

  private Sessions(
      ActorContext<Command> context, Session.Settings settings, Session.Dependencies node) {
    this.context = context;
    this.settings = settings;
    this.node = node;
  }

  public static Behavior<Command> create(Session.Settings settings, Session.Dependencies node) {
    return Behaviors.setup(context -> new Sessions(context, settings, node).behavior());
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class).onMessage(Connect.class, this::onConnect).build();
  }

  private Behavior<Command> onConnect(Connect connect) {
    ActorRef<Session.Command> session =
        context.spawn(
            Session.create(connect.userId(), connect.deviceId(), settings, node),
            "session-" + ++connections);
    connect.replyTo().tell(session);
    return Behaviors.same();
  }
}
