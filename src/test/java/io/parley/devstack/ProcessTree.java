package io.parley.devstack;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/** A process and its descendants, as seen at one moment. */
final class ProcessTree {

  private final Set<ProcessHandle> handles;

  private ProcessTree(Set<ProcessHandle> handles) {
    this.handles = handles;
  }

  /**
   * Takes a snapshot. Take it while the root is alive: once a parent dies its children are
   * re-parented and no longer show up as its descendants.
   */
  static ProcessTree of(ProcessHandle root) {
    Set<ProcessHandle> all = new LinkedHashSet<>();
    all.add(root);
    root.descendants().forEach(all::add);
    return new ProcessTree(all);
  }

  ProcessTree plus(ProcessTree other) {
    Set<ProcessHandle> all = new LinkedHashSet<>(handles);
    all.addAll(other.handles);
    return new ProcessTree(all);
  }

  Set<Long> livePids() {
    return handles.stream()
        .filter(ProcessHandle::isAlive)
        .map(ProcessHandle::pid)
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  void killForcibly() {
    handles.forEach(ProcessHandle::destroyForcibly);
  }

  /** Waits until every process of the snapshot has exited; false if the deadline passed first. */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    CompletableFuture<?>[] exits =
        handles.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(exits).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot watch process exits", e);
    }
  }
}
