package io.parley.gateway;

import com.typesafe.config.Config;
import io.parley.ops.NodeState;
import io.parley.routing.NodeRouter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * A gateway's graceful exit, in Coordinated Shutdown (SIGTERM, a rolling deploy): first the node
 * turns not-ready and refuses upgrades (and waits {@code readiness-delay} for load balancers to
 * notice); then, while the HTTP port unbinds, every session answers what it was asked, sends {@code
 * reconnect} and closes, one after the other evenly within {@code spread} so its clients do not
 * land on the survivors at once; then Pekko hands the conversations off and the node leaves.
 */
public final class Drain {
  private Drain() {}

  public static void register(ActorSystem<?> system, ActorRef<NodeRouter.DrainAll> router) {
    Config config = system.settings().config().getConfig("parley.drain");
    Duration readinessDelay = config.getDuration("readiness-delay");
    Duration spread = config.getDuration("spread");
    Duration grace = config.getDuration("grace");
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "parley-not-ready",
        () -> {
          NodeState.get(system).startDraining();
          return CompletableFuture.supplyAsync(
              Done::getInstance,
              CompletableFuture.delayedExecutor(readinessDelay.toMillis(), TimeUnit.MILLISECONDS));
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(),
        "parley-drain-sessions",
        () ->
            AskPattern.ask(
                router,
                replyTo -> new NodeRouter.DrainAll(spread, grace, replyTo),
                spread.plus(grace).plusSeconds(1),
                system.scheduler()));
  }
}
