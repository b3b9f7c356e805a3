package io.parley.routing;

import io.micrometer.core.instrument.Counter;
import io.parley.ops.Metrics;
import io.parley.pipeline.MessageRecord;
import io.parley.registry.ConnectionRegistry;
import io.parley.registry.ConnectionRegistry.DeviceLocation;
import io.parley.registry.DeviceLocator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Delivers a durable message, or a receipt, to the members' connected devices: one Redis round trip
 * locates every device, then one {@link NodeRouter.Envelope} goes to each node that holds any of
 * them. Nodes without recipients get nothing; nothing is broadcast.
 *
 * <p>Order: lookups go out on one Redis connection and complete in order, so envelopes of one
 * conversation leave in seq order, and Pekko keeps the order between two actors.
 *
 * <p>Node-local: its messages never cross the cluster (only the envelopes do).
 */
public final class Fanout {

  public interface Command {}

  /** Push {@code delivery} to every connected device of {@code members} but {@code except}. */
  public record Deliver(
      NodeRouter.Delivery delivery, NodeRouter.Recipient except, List<String> members)
      implements Command {

    /** A message goes to every device of every member but the one that sent it. */
    public static Deliver message(MessageRecord record, List<String> members) {
      return new Deliver(
          new NodeRouter.Push(record),
          new NodeRouter.Recipient(record.senderId(), record.senderDevice()),
          members);
    }
  }

  private record Located(Deliver deliver, List<DeviceLocation> locations) implements Command {}

  private record RoutersChanged(Receptionist.Listing listing) implements Command {}

  private final DeviceLocator registry;
  private final Function<ActorRef<NodeRouter.Command>, String> nodeOf;
  private final Map<String, ActorRef<NodeRouter.Command>> routers = new HashMap<>();
  private final Counter lookupFailures;
  private final Counter unknownNodes;

  private Fanout(
      DeviceLocator registry,
      Function<ActorRef<NodeRouter.Command>, String> nodeOf,
      Metrics metrics) {
    this.registry = registry;
    this.nodeOf = nodeOf;
    lookupFailures =
        metrics.counter("parley_fanout_lookup_failures_total", "Registry lookups that failed");
    unknownNodes =
        metrics.counter(
            "parley_fanout_unknown_node_total", "Devices registered on a node not in the cluster");
  }

  public static Behavior<Command> create(DeviceLocator registry, String selfNode) {
    return create(registry, router -> NodeNames.of(router.path().address(), selfNode));
  }

  /** {@code nodeOf} names a router's node as the registry does (a test's routers are all local). */
  static Behavior<Command> create(
      DeviceLocator registry, Function<ActorRef<NodeRouter.Command>, String> nodeOf) {
    return Behaviors.setup(
        context -> {
          ActorRef<Receptionist.Listing> listings =
              context.messageAdapter(Receptionist.Listing.class, RoutersChanged::new);
          context.getSystem().receptionist().tell(Receptionist.subscribe(NodeRouter.KEY, listings));
          return new Fanout(registry, nodeOf, Metrics.get(context.getSystem())).behavior(context);
        });
  }

  private Behavior<Command> behavior(ActorContext<Command> context) {
    return Behaviors.receive(Command.class)
        .onMessage(Deliver.class, deliver -> onDeliver(context, deliver))
        .onMessage(Located.class, this::onLocated)
        .onMessage(RoutersChanged.class, this::onRoutersChanged)
        .build();
  }

  private Behavior<Command> onDeliver(ActorContext<Command> context, Deliver deliver) {
    context.pipeToSelf(
        registry.locate(deliver.members()),
        (locations, failure) -> {
          if (failure != null) {
            context
                .getLog()
                .warn(
                    "cannot locate members for a {}: {}",
                    deliver.delivery().getClass().getSimpleName(),
                    failure.toString());
            lookupFailures.increment();
            return new Located(deliver, List.of());
          }
          return new Located(deliver, locations);
        });
    return Behaviors.same();
  }

  private Behavior<Command> onLocated(Located located) {
    Deliver deliver = located.deliver();
    ConnectionRegistry.byNode(located.locations())
        .forEach(
            (node, devices) -> {
              List<NodeRouter.Recipient> recipients =
                  devices.stream()
                      .map(device -> new NodeRouter.Recipient(device.userId(), device.deviceId()))
                      .filter(recipient -> !recipient.equals(deliver.except()))
                      .toList();
              ActorRef<NodeRouter.Command> router = routers.get(node);
              if (router == null) {
                unknownNodes.increment();
              } else if (!recipients.isEmpty()) {
                router.tell(new NodeRouter.Envelope(deliver.delivery(), recipients));
              }
            });
    return Behaviors.same();
  }

  private Behavior<Command> onRoutersChanged(RoutersChanged changed) {
    routers.clear();
    for (ActorRef<NodeRouter.Command> router :
        changed.listing().getServiceInstances(NodeRouter.KEY)) {
      routers.put(nodeOf.apply(router), router);
    }
    return Behaviors.same();
  }
}
