package io.parley.devstack;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stack leaves no process and no files behind, however its owner goes away. */
class LocalStackCleanupTest {

  private static final Duration START_DEADLINE = Duration.ofMinutes(3);

  private Process mainJvm;

  @AfterEach
  void killLeftoverMainJvm() {
    if (mainJvm != null) {
      mainJvm.destroyForcibly();
    }
  }

  /**
   * All three services, Cassandra's JVM included. Every process is held as a {@link ProcessHandle}
   * taken while the stack runs (unlike a bare pid, a handle is not fooled by pid reuse), and the
   * processes this JVM started meanwhile are checked too, so one re-parented away from its service
   * still counts.
   */
  @Test
  void closeStopsEveryProcessAndDeletesTheWorkDir() {
    Set<ProcessHandle> oursBefore =
        ProcessHandle.current().descendants().collect(Collectors.toSet());
    LocalStack stack = LocalStack.start(StackOptions.defaults());
    Map<String, Set<ProcessHandle>> trees = new TreeMap<>();
    Path workDir = stack.workDir();
    try {
      stack.services().forEach(service -> trees.put(service.name(), processTree(service)));
      assertEquals(
          Set.of(RedisServer.NAME, KafkaBroker.NAME, CassandraNode.NAME),
          trees.keySet(),
          "services started");
      // redis: sh wrapper + redis-server + watcher (+ cat); kafka and cassandra: their JVMs
      assertTrue(
          trees.get(RedisServer.NAME).size() >= 3, "redis: " + pids(trees.get(RedisServer.NAME)));
      trees.forEach((name, tree) -> assertFalse(alive(tree).isEmpty(), name + ": no live process"));
      assertTrue(Files.isDirectory(workDir));
    } finally {
      stack.close();
    }

    trees.forEach(
        (name, tree) ->
            assertEquals(
                Set.of(), pids(alive(tree)), name + ": processes still alive after close"));
    Set<ProcessHandle> startedMeanwhile =
        ProcessHandle.current()
            .descendants()
            .filter(handle -> !oursBefore.contains(handle))
            .collect(Collectors.toSet());
    assertEquals(
        Set.of(), pids(alive(startedMeanwhile)), "processes of this JVM still alive after close");
    assertFalse(Files.exists(workDir), "work folder still there: " + workDir);
    stack.close(); // idempotent
  }

  /** The service's process and its descendants, by our own look and by the service's. */
  private static Set<ProcessHandle> processTree(ChildService service) {
    ProcessHandle root =
        ProcessHandle.of(service.pid())
            .orElseThrow(
                () -> new AssertionError(service.name() + ": no process " + service.pid()));
    Set<ProcessHandle> tree = new HashSet<>();
    tree.add(root);
    root.descendants().forEach(tree::add);
    service.processTree().forEach(pid -> ProcessHandle.of(pid).ifPresent(tree::add));
    return tree;
  }

  private static Set<ProcessHandle> alive(Set<ProcessHandle> handles) {
    return handles.stream().filter(ProcessHandle::isAlive).collect(Collectors.toSet());
  }

  private static Set<Long> pids(Set<ProcessHandle> handles) {
    return handles.stream().map(ProcessHandle::pid).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void killNineOfTheLauncherStopsItsRedis(@TempDir Path tempDir) throws Exception {
    mainJvm =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "-D"
                    + StackOptions.PROJECT_DIR_PROPERTY
                    + "="
                    + System.getProperty(StackOptions.PROJECT_DIR_PROPERTY),
                // kill -9 leaves the work folder behind: put it where JUnit cleans up.
                "-D" + LocalStackMain.WORK_DIR_PROPERTY + "=" + tempDir.resolve("stack"),
                LocalStackMain.class.getName(),
                "redis")
            .redirectError(tempDir.resolve("main.err").toFile())
            .start();

    String redisUri = awaitLine(mainJvm, "redis=").substring("redis=".length());
    assertEquals("PONG", RedisPing.ping(redisUri));
    Set<ProcessHandle> descendants = mainJvm.toHandle().descendants().collect(Collectors.toSet());
    assertTrue(
        descendants.size() >= 3, "expected wrapper, redis and watcher, got " + pids(descendants));

    mainJvm.destroyForcibly(); // kill -9: no shutdown hook runs in the launcher
    assertTrue(mainJvm.waitFor(30, TimeUnit.SECONDS));

    int port = URI.create(redisUri).getPort();
    await("redis-server gone after kill -9 of its launcher")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              assertEquals(Set.of(), pids(alive(descendants)), "descendants still alive");
              assertFalse(accepts(port), "port " + port + " still accepts connections");
            });
  }

  /** Reads the child's stdout until a line starts with the prefix, then keeps draining it. */
  private static String awaitLine(Process process, String prefix) throws Exception {
    CompletableFuture<String> found = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  if (line.startsWith(prefix)) {
                    found.complete(line);
                  }
                }
                found.completeExceptionally(
                    new IllegalStateException("stdout ended without a '" + prefix + "' line"));
              } catch (IOException e) {
                found.completeExceptionally(e);
              }
            },
            "main-jvm-stdout");
    reader.setDaemon(true);
    reader.start();
    return found.get(START_DEADLINE.toSeconds(), TimeUnit.SECONDS);
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
