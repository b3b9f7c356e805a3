package io.parley.gateway;

import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * A connection's bounded outbound buffer. Memory per connection is bounded: when a client reads too
 * slowly to drain {@code capacity} frames, {@link #offer} refuses, and the one slot kept free
 * carries the last frame that tells the client why the connection ends.
 */
final class Outbound {

  private final BoundedSourceQueue<ServerFrame> queue;
  private final UniqueKillSwitch killSwitch;
  private final int capacity;

  /** {@code queue} must have been created with {@code capacity + 1} slots. */
  Outbound(BoundedSourceQueue<ServerFrame> queue, UniqueKillSwitch killSwitch, int capacity) {
    this.queue = queue;
    this.killSwitch = killSwitch;
    this.capacity = capacity;
  }

  /** False when the buffer is full (a slow client) or the connection is gone. */
  boolean offer(ServerFrame frame) {
    return queue.size() < capacity && queue.offer(frame).isEnqueued();
  }

  /** Frames buffered and not yet written to the socket. */
  int depth() {
    return queue.size();
  }

  /** Sends what is buffered, then {@code last}, then closes the socket normally. */
  void finishWith(ServerFrame last) {
    queue.offer(last);
    complete();
  }

  void complete() {
    if (!queue.isCompleted()) {
      queue.complete();
    }
  }

  /** Drops the connection at once, buffered frames included: for clients that stopped reading. */
  void abort(String reason) {
    killSwitch.abort(new IllegalStateException(reason));
  }
}
