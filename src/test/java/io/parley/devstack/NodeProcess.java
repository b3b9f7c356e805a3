package io.parley.devstack;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One Parley node in a JVM of its own ({@code io.parley.app.Main} behind {@link ChildGuard}, so it
 * exits when its parent dies), pointed at a {@link LocalStack}. Used by {@code bin/parley-local}
 * and by tests that need real processes (SIGTERM drains, rolling restarts).
 *
 * <p>The node runs on the production classpath ({@link #classpath(Path)}) with only the guard's
 * folder in front of it, as in the image: no test class or test-only library can hide a class
 * missing at run time.
 */
public final class NodeProcess {

  private static final Duration STOP_DEADLINE = Duration.ofSeconds(60);

  private final Process process;
  private final int httpPort;
  private final int remotePort;
  private final Path log;

  private NodeProcess(Process process, int httpPort, int remotePort, Path log) {
    this.process = process;
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.log = log;
  }

  /**
   * Starts a node on {@code classpath} (the production one, {@link #classpath(Path)}) with HTTP on
   * {@code httpPort} (0: a free one) joining {@code seeds}; {@code extraEnv} adds or overrides
   * settings. CHAT_JWT_SECRET is inherited unless given.
   */
  public static NodeProcess start(
      LocalStack stack,
      String classpath,
      int httpPort,
      List<String> seeds,
      Map<String, String> extraEnv,
      Path log)
      throws IOException {
    int http = httpPort == 0 ? freePort() : httpPort;
    int remote = freePort();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms128m",
                "-Xmx512m",
                "-XX:+UseG1GC",
                "-cp",
                stack.guardFolder() + File.pathSeparator + classpath,
                GuardClasspath.MAIN_CLASS,
                "io.parley.app.Main"));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("PARLEY_HTTP_HOST", "127.0.0.1");
    env.put("PARLEY_HTTP_PORT", Integer.toString(http));
    env.put("PARLEY_REMOTE_PORT", Integer.toString(remote));
    env.put("PARLEY_MANAGEMENT_PORT", Integer.toString(freePort()));
    env.put("PARLEY_MANAGEMENT_BIND_HOST", "127.0.0.1");
    env.put("PARLEY_SEED_NODES", String.join(",", seeds));
    env.put("PARLEY_REDIS_URI", stack.redis().uri());
    env.put("PARLEY_KAFKA_BOOTSTRAP", stack.kafka().bootstrapServers());
    env.put("PARLEY_CASSANDRA_CONTACT_POINTS", stack.cassandra().contactPoint());
    env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", "true");
    env.putAll(extraEnv);
    return new NodeProcess(builder.start(), http, remote, log);
  }

  /**
   * The classpath a node JVM runs on: the project's classes and its runtime dependencies, as the
   * build writes them to {@code target/runtime.classpath}; the image's {@code /app/lib} holds the
   * same jars.
   */
  public static String classpath(Path projectDir) throws IOException {
    return projectDir.resolve("target/classes")
        + ":"
        + Files.readString(projectDir.resolve("target/runtime.classpath")).trim();
  }

  /** The cluster address a node on {@code remotePort} of this host has (for seed lists). */
  public static String address(int remotePort) {
    return "pekko://parley@127.0.0.1:" + remotePort;
  }

  public String address() {
    return address(remotePort);
  }

  public int httpPort() {
    return httpPort;
  }

  public Path log() {
    return log;
  }

  /** The node JVM's process id (for jcmd and /proc readings in benchmarks). */
  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Waits until {@code /health/ready} answers 200 (joined, Redis and Kafka reachable). */
  public void awaitReady(Duration deadline) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest probe =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))
            .timeout(Duration.ofSeconds(5))
            .build();
    try {
      Awaitility.await()
          .atMost(deadline)
          .pollInterval(Duration.ofMillis(250))
          .until(() -> ready(http, probe));
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "node on :" + httpPort + " not ready within " + deadline + "; see " + log);
    }
  }

  private boolean ready(HttpClient http, HttpRequest probe) throws InterruptedException {
    if (!process.isAlive()) {
      throw new IllegalStateException("node on :" + httpPort + " exited; see " + log);
    }
    try {
      return http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException notListeningYet) {
      return false; // the node is still starting
    }
  }

  /** SIGKILL, as a crashed machine: no drain, no hand-off, no leave. Returns once it is gone. */
  public void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    try {
      process.destroyForcibly().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * SIGTERM (Coordinated Shutdown: drain, hand-off, leave) and waits; kills it if it does not exit
   * in time. Returns the exit code, or -1 if it had to be killed.
   */
  public int stop() {
    process.destroy();
    try {
      if (process.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
        return process.exitValue();
      }
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    return -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
