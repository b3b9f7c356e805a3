package io.parley.app;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * {@link Readiness} as a Pekko Management readiness check, so that Kubernetes' probe on {@code
 * /ready} also waits for Redis and Kafka (configured in {@code cluster.conf}).
 */
public final class DependenciesReady implements Supplier<CompletionStage<Boolean>> {

  private final Readiness readiness;

  /** Pekko Management instantiates checks with the classic actor system. */
  public DependenciesReady(ActorSystem system) {
    this.readiness = new Readiness(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return readiness.check().thenApply(Readiness.Report::ready);
  }
}
