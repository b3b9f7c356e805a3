package io.parley.gateway;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A registry in memory. It answers at once, or, once {@link #hold} was called, leaves each
 * registration for the test to complete from its own thread, as Lettuce completes from its event
 * loop, never the session's.
 */
final class FakeDeviceRegistration implements DeviceRegistration {

  private final BlockingQueue<CompletableFuture<Void>> held = new LinkedBlockingQueue<>();
  private volatile boolean holding;

  /** From now on registrations wait for {@link #nextRegistration}'s caller to complete them. */
  void hold() {
    holding = true;
  }

  /** The oldest registration not yet answered, waiting up to 10 s for the session to make it. */
  CompletableFuture<Void> nextRegistration() {
    CompletableFuture<Void> next;
    try {
      next = held.poll(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
    if (next == null) {
      throw new AssertionError("the session did not register within 10 s");
    }
    return next;
  }

  @Override
  public CompletionStage<Void> register(String userId, String deviceId, String node) {
    if (!holding) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> answer = new CompletableFuture<>();
    held.add(answer);
    return answer;
  }

  @Override
  public CompletionStage<Boolean> unregister(String userId, String deviceId, String node) {
    return CompletableFuture.completedFuture(true);
  }
}
