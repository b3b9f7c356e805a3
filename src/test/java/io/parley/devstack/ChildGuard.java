package io.parley.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of every JVM child of the local stack: ties the child's life to its parent.
 *
 * <p>The launcher keeps a pipe open on the child's stdin. When the launcher closes it, or the
 * launcher dies in any way (even {@code kill -9}, which makes the kernel close the pipe), this
 * guard reads EOF and calls {@link System#exit}, so the service's own shutdown hooks still run
 * (Kafka and Cassandra flush and close their logs cleanly).
 *
 * <p>This class is copied alone onto the child's classpath (see {@link GuardClasspath}), so it must
 * depend on nothing but the JDK: no other Parley class, no nested classes.
 *
 * <p>Usage: {@code java ... io.parley.devstack.ChildGuard <real main class> [args...]}
 */
public final class ChildGuard {

  private ChildGuard() {}

  public static void main(String[] args) throws Throwable {
    if (args.length == 0) {
      System.err.println("usage: ChildGuard <main class> [args...]");
      System.exit(2);
    }
    Thread watcher = new Thread(() -> exitOnEndOfInput(System.in), "parent-watch");
    watcher.setDaemon(true);
    watcher.start();

    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void exitOnEndOfInput(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // Nothing is ever sent; we only wait for the parent to go away.
      }
    } catch (IOException e) {
      // A broken pipe means the same as EOF: the parent is gone.
    }
    System.exit(0);
  }
}
