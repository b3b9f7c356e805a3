package io.parley.conversation;

import io.parley.CborSerializable;
import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Keeps the {@link ConversationIndex} in step with membership: one node-local instance writes a row
 * when a conversation gains a member, retrying with backoff while Cassandra is unreachable.
 *
 * <p>Best effort beyond {@link #MAX_ATTEMPTS}: a row still missing then is logged; the member still
 * receives the conversation's messages, only the list lacks it until the next change.
 */
public final class MembershipIndexer {

  static final int MAX_ATTEMPTS = 8;
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);

  public interface Command extends CborSerializable {}

  /** {@code userId} became a member of {@code conversationId}. */
  public record Joined(String userId, String conversationId, String title) implements Command {}

  private record Attempt(Joined joined, int attempt) implements Command {}

  private record Failed(Attempt attempt, String reason) implements Command {}

  private record Written(Joined joined) implements Command {}

  private MembershipIndexer() {}

  public static Behavior<Command> create(ConversationIndex index) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> behavior(context, timers, index)));
  }

  private static Behavior<Command> behavior(
      ActorContext<Command> context, TimerScheduler<Command> timers, ConversationIndex index) {
    return Behaviors.receive(Command.class)
        .onMessage(Joined.class, joined -> write(context, index, new Attempt(joined, 1)))
        .onMessage(Attempt.class, attempt -> write(context, index, attempt))
        .onMessage(Failed.class, failed -> retry(context, timers, failed))
        .onMessage(Written.class, written -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> write(
      ActorContext<Command> context, ConversationIndex index, Attempt attempt) {
    Joined joined = attempt.joined();
    context.pipeToSelf(
        index.add(joined.userId(), joined.conversationId(), joined.title()),
        (done, failure) ->
            failure == null ? new Written(joined) : new Failed(attempt, failure.toString()));
    return Behaviors.same();
  }

  private static Behavior<Command> retry(
      ActorContext<Command> context, TimerScheduler<Command> timers, Failed failed) {
    Attempt attempt = failed.attempt();
    if (attempt.attempt() >= MAX_ATTEMPTS) {
      context
          .getLog()
          .error(
              "gave up indexing {} for {}: {}",
              attempt.joined().conversationId(),
              attempt.joined().userId(),
              failed.reason());
      return Behaviors.same();
    }
    Duration backoff = FIRST_BACKOFF.multipliedBy(1L << (attempt.attempt() - 1));
    timers.startSingleTimer(attempt, new Attempt(attempt.joined(), attempt.attempt() + 1), backoff);
    return Behaviors.same();
  }
}
