package io.parley.ops;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/** Whether this node is draining: once set, it is not ready and takes no new connections. */
public final class NodeState implements Extension {

  private static final ExtensionId<NodeState> ID =
      new ExtensionId<>() {
        @Override
        public NodeState createExtension(ActorSystem<?> system) {
          return new NodeState();
        }
      };

  private final AtomicBoolean draining = new AtomicBoolean();

  public static NodeState get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  public boolean draining() {
    return draining.get();
  }

  public void startDraining() {
    draining.set(true);
  }
}
