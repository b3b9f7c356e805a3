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
import java.util.Set;
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

  @Test
  void closeStopsEveryProcessAndDeletesTheWorkDir() {
    LocalStack stack =
        LocalStack.start(StackOptions.defaults().only(StackService.REDIS, StackService.KAFKA));
    Set<Long> pids = new HashSet<>();
    stack.services().forEach(service -> pids.addAll(service.processTree()));
    Path workDir = stack.workDir();
    // redis: sh wrapper + redis-server + watcher (+ cat); kafka: its JVM
    assertTrue(pids.size() >= 4, "expected at least 4 processes, got " + pids);
    assertTrue(Files.isDirectory(workDir));

    stack.close();

    assertEquals(Set.of(), alive(pids), "processes still alive after close");
    assertFalse(Files.exists(workDir), "work folder still there: " + workDir);
    stack.close(); // idempotent
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
    Set<Long> descendants =
        mainJvm.toHandle().descendants().map(ProcessHandle::pid).collect(Collectors.toSet());
    assertTrue(descendants.size() >= 3, "expected wrapper, redis and watcher, got " + descendants);

    mainJvm.destroyForcibly(); // kill -9: no shutdown hook runs in the launcher
    assertTrue(mainJvm.waitFor(30, TimeUnit.SECONDS));

    int port = URI.create(redisUri).getPort();
    await("redis-server gone after kill -9 of its launcher")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              assertEquals(Set.of(), alive(descendants), "descendants still alive");
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

  private static Set<Long> alive(Set<Long> pids) {
    return pids.stream()
        .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .collect(Collectors.toSet());
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
