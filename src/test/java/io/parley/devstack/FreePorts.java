package io.parley.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks free TCP ports on 127.0.0.1 for the services.
 *
 * <p>The kernel hands out a free ephemeral port; we close it again and pass the number to the
 * child. Another process could grab it in between (rare; the start then fails with the bind error
 * in the log tail). Ports already handed out by this JVM are never handed out again, so services
 * started in parallel cannot collide with each other.
 */
final class FreePorts {

  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  static int next() {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = probe();
      if (HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port found after 100 attempts");
  }

  private static int probe() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a probe socket", e);
    }
  }
}
