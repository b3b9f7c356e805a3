package io.parley.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Redis, Kafka and Cassandra as child processes on free ports, for tests and local runs.
 *
 * <p>Everything lives under {@link #workDir()}, which {@link #close()} deletes. A JVM shutdown hook
 * closes the stack on Ctrl-C or SIGTERM; on {@code kill -9} the children still stop by themselves,
 * because their stdin pipe from us closes (see {@link ChildService}).
 */
public final class LocalStack implements AutoCloseable {

  private final Path workDir;
  private final Path guardFolder;
  private final Map<StackService, ChildService> services = new EnumMap<>(StackService.class);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook = new Thread(this::closeFromHook, "parley-stack-shutdown");
  private volatile Runnable beforeClose = () -> {};

  private LocalStack(StackOptions options) {
    this.workDir = options.workDir();
    createDirectories(workDir);
    this.guardFolder = GuardClasspath.install(workDir.resolve("guard"));
    for (StackService service : options.services()) {
      services.put(service, create(service, options, guardFolder));
    }
  }

  /**
   * Starts the chosen services in parallel and returns once every one of them answers. On any
   * failure, stops whatever started, deletes the work folder and throws a {@link
   * StackStartException} carrying the tail of the failing service's log.
   */
  public static LocalStack start(StackOptions options) {
    LocalStack stack = new LocalStack(options);
    // Registered before starting: a Ctrl-C during a slow start must clean up too.
    Runtime.getRuntime().addShutdownHook(stack.shutdownHook);
    try {
      stack.startAll();
      return stack;
    } catch (RuntimeException | Error e) {
      stack.closeAfterFailure(e);
      throw e;
    }
  }

  public RedisServer redis() {
    return get(StackService.REDIS, RedisServer.class);
  }

  public KafkaBroker kafka() {
    return get(StackService.KAFKA, KafkaBroker.class);
  }

  public CassandraNode cassandra() {
    return get(StackService.CASSANDRA, CassandraNode.class);
  }

  public List<ChildService> services() {
    return List.copyOf(services.values());
  }

  public Path workDir() {
    return workDir;
  }

  /** The folder holding {@link ChildGuard} alone, for the front of a child JVM's classpath. */
  Path guardFolder() {
    return guardFolder;
  }

  /**
   * Starts again, on their ports and with their data, the services whose process is gone (one a
   * test stopped and did not restart, or that crashed), so that whoever uses the stack next finds
   * it whole whatever ran before.
   */
  public void restartStopped() {
    services.values().stream()
        .filter(service -> !service.isRunning())
        .forEach(ChildService::restart);
  }

  /**
   * Runs {@code first} when the stack is closed, before any service stops, also from the shutdown
   * hook: processes that use the stack (nodes) stop cleanly while it still answers.
   */
  public void beforeClose(Runnable first) {
    beforeClose = first;
  }

  /**
   * Stops every service (in parallel), waits until all their processes are gone, deletes the work
   * folder.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down: we are running inside (or next to) the hook.
    }
    beforeClose.run();
    RuntimeException failure =
        inParallel(
            "stop",
            service -> {
              service.stop();
              return service;
            });
    deleteRecursively(workDir);
    if (failure != null) {
      throw failure;
    }
  }

  private void startAll() {
    RuntimeException failure =
        inParallel(
            "start",
            service -> {
              service.start();
              return service;
            });
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Runs the action for every service on its own thread. On the first failure the other threads are
   * interrupted (a start then gives up and stops its child) so a broken service does not make us
   * wait out a slow one. Returns the first failure, if any, with the others suppressed in it.
   */
  private RuntimeException inParallel(String verb, Function<ChildService, ChildService> action) {
    if (services.isEmpty()) {
      return null;
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            services.size(), runnable -> new Thread(runnable, "parley-stack-" + verb));
    CompletionService<ChildService> completion = new ExecutorCompletionService<>(pool);
    services.values().forEach(service -> completion.submit(() -> action.apply(service)));
    RuntimeException failure = null;
    try {
      for (int i = 0; i < services.size(); i++) {
        try {
          completion.take().get();
        } catch (ExecutionException e) {
          failure = merge(failure, e.getCause());
          if ("start".equals(verb)) {
            pool.shutdownNow();
          }
        }
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
      failure = merge(failure, e);
    } finally {
      pool.shutdown();
      awaitTermination(pool);
    }
    return failure;
  }

  private static RuntimeException merge(RuntimeException first, Throwable next) {
    if (first == null) {
      return next instanceof RuntimeException runtime
          ? runtime
          : new StackStartException(next.toString(), next);
    }
    first.addSuppressed(next);
    return first;
  }

  private static void awaitTermination(ExecutorService pool) {
    try {
      // Each stop is bounded (grace + kill), so this only guards against a bug.
      if (!pool.awaitTermination(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("local stack threads did not finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeAfterFailure(Throwable failure) {
    try {
      close();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private void closeFromHook() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("parley local stack: cleanup failed: " + e);
    }
  }

  private <T extends ChildService> T get(StackService service, Class<T> type) {
    ChildService child = services.get(service);
    if (child == null) {
      throw new IllegalStateException(
          service + " is not part of this local stack (started: " + services.keySet() + ")");
    }
    return type.cast(child);
  }

  private static ChildService create(StackService service, StackOptions options, Path guardFolder) {
    return switch (service) {
      case REDIS -> new RedisServer(options.workDir(), options.projectDir());
      case KAFKA -> new KafkaBroker(options.workDir(), options.projectDir(), guardFolder);
      case CASSANDRA -> new CassandraNode(options.workDir(), options.projectDir(), guardFolder);
    };
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the stack's work folder " + root, e);
    }
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    services
        .values()
        .forEach(s -> parts.add(s.name() + (s.isRunning() ? "(running)" : "(stopped)")));
    return "LocalStack" + parts + " in " + workDir;
  }
}
