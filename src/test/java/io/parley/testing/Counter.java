package io.parley.testing;

import io.parley.CborSerializable;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/** A minimal event-sourced, shardable entity: proves the journal, recovery and sharding wiring. */
public final class Counter
    extends EventSourcedBehaviorWithEnforcedReplies<
        Counter.Command, Counter.Incremented, Counter.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "TestCounter");

  public interface Command extends CborSerializable {}

  public record Increment(ActorRef<Integer> replyTo) implements Command {}

  public record Get(ActorRef<Integer> replyTo) implements Command {}

  public record Incremented(String counterId) implements CborSerializable {}

  public record State(int value) implements CborSerializable {}

  private final String counterId;

  public static Behavior<Command> create(String counterId) {
    return new Counter(counterId);
  }

  private Counter(String counterId) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), counterId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.counterId = counterId;
  }

  @Override
  public State emptyState() {
    return new State(0);
  }

  @Override
  public CommandHandlerWithReply<Command, Incremented, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Increment.class, this::onIncrement)
        .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), state.value()))
        .build();
  }

  private ReplyEffect<Incremented, State> onIncrement(State state, Increment increment) {
    return Effect()
        .persist(new Incremented(counterId))
        .thenReply(increment.replyTo(), updated -> updated.value());
  }

  @Override
  public EventHandler<State, Incremented> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Incremented.class, (state, event) -> new State(state.value() + 1))
        .build();
  }
}
