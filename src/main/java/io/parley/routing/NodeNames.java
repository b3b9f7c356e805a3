package io.parley.routing;

import org.apache.pekko.actor.Address;

/** Nodes are named by their cluster address, as the registry stores them. */
public final class NodeNames {
  private NodeNames() {}

  /**
   * The name of the node at {@code address}; local refs carry no host, so they are {@code self}.
   */
  public static String of(Address address, String self) {
    return address.hasLocalScope() ? self : address.toString();
  }
}
