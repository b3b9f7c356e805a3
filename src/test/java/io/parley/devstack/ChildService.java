package io.parley.devstack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One service of the local stack, running as a child process whose life is tied to ours.
 *
 * <p>The child gets a pipe on its stdin that we keep open and never write to. Closing it (or dying,
 * even by {@code kill -9}: the kernel closes it for us) tells the child to shut down: JVM children
 * through {@link ChildGuard}, redis through its {@code sh} wrapper.
 *
 * <p>Ports and the data folder are chosen once, so {@link #restart()} brings the service back where
 * clients expect it, with its data.
 */
public abstract class ChildService implements AutoCloseable {

  /** How long a graceful stop may take before the whole process tree is killed. */
  static final Duration STOP_GRACE = Duration.ofSeconds(20);

  private static final Duration KILL_WAIT = Duration.ofSeconds(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  private final Path home;
  private final Path logFile;
  private boolean prepared;
  private Process process;
  private OutputStream lifeline;
  private volatile Duration lastStartTime;

  /**
   * @param home the service's own folder (configs and data), created on first start
   */
  protected ChildService(Path home, Path logFile) {
    this.home = home;
    this.logFile = logFile;
  }

  public abstract String name();

  /** Where clients connect, in the form the application's configuration expects. */
  public abstract String address();

  /**
   * The environment variable through which bin/parley-local hands {@link #address()} to the app.
   */
  abstract String environmentVariable();

  /** One-time setup before the first launch: config files, storage formatting. */
  protected abstract void prepare() throws Exception;

  /** The command line that runs the service in the foreground until its stdin closes. */
  protected abstract List<String> command();

  protected abstract ReadinessProbe readinessProbe();

  protected abstract Duration readyTimeout();

  /** The pid of the child process (the wrapper, for a wrapped native service). */
  public synchronized long pid() {
    if (process == null) {
      throw new IllegalStateException(name() + " was never started");
    }
    return process.pid();
  }

  /** The pid plus the pids of all its live descendants. */
  public synchronized Set<Long> processTree() {
    return process == null ? Set.of() : ProcessTree.of(process.toHandle()).livePids();
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** The service's stdout and stderr, appended to across restarts. */
  public Path logFile() {
    return logFile;
  }

  /** How long the last start or restart took until the service answered; null before that. */
  public Duration lastStartTime() {
    return lastStartTime;
  }

  /** Starts the service and waits until it answers; stops it again if it does not. */
  synchronized void start() {
    Instant began = Instant.now();
    try {
      if (!prepared) {
        Files.createDirectories(home);
        Files.createDirectories(logFile.getParent());
        prepare();
        prepared = true;
      }
      launch();
      awaitReady();
      lastStartTime = Duration.between(began, Instant.now());
    } catch (RuntimeException | Error e) {
      stopQuietly(e);
      throw e;
    } catch (Exception e) {
      stopQuietly(e);
      throw new StackStartException(
          name() + " could not be prepared: " + e + "\n" + LogTail.of(logFile), e);
    }
  }

  /** Stops the service and starts it again on the same ports with the same data. */
  public synchronized void restart() {
    stop();
    start();
  }

  /**
   * Closes the child's stdin so it shuts down cleanly, then kills the whole process tree if it is
   * still there after {@link #STOP_GRACE}. Returns once every process of the tree is gone.
   */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    ProcessTree tree = ProcessTree.of(process.toHandle());
    try {
      closeLifeline();
      if (!tree.awaitExit(STOP_GRACE)) {
        appendToLog(
            "graceful stop took longer than "
                + STOP_GRACE.toSeconds()
                + " s: killing the process tree");
        tree = tree.plus(ProcessTree.of(process.toHandle()));
        tree.killForcibly();
        if (!tree.awaitExit(KILL_WAIT)) {
          throw new IllegalStateException(
              name() + " processes survived kill -9: " + tree.livePids());
        }
      }
    } catch (InterruptedException e) {
      // We may be in a shutdown hook or a cancelled start: never leave processes behind.
      tree.plus(ProcessTree.of(process.toHandle())).killForcibly();
      Thread.currentThread().interrupt();
    } finally {
      process = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  protected Path home() {
    return home;
  }

  /** Runs a one-shot helper command (e.g. storage formatting) with output in our log. */
  protected void runToCompletion(List<String> command, Duration timeout)
      throws IOException, InterruptedException {
    appendToLog("running " + String.join(" ", command));
    Process helper = newProcessBuilder(command).start();
    // Keep the helper's stdin open while it runs: a guarded helper exits on EOF.
    try (OutputStream keepOpen = helper.getOutputStream()) {
      if (!helper.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        ProcessTree.of(helper.toHandle()).killForcibly();
        throw new StackStartException(
            name()
                + ": helper did not finish within "
                + timeout.toSeconds()
                + " s: "
                + command
                + "\n"
                + LogTail.of(logFile));
      }
    }
    if (helper.exitValue() != 0) {
      throw new StackStartException(
          name()
              + ": helper failed with exit code "
              + helper.exitValue()
              + ": "
              + command
              + "\n"
              + LogTail.of(logFile));
    }
  }

  protected void writeFile(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, content, StandardCharsets.UTF_8);
  }

  private void launch() throws IOException {
    List<String> command = command();
    appendToLog("starting " + String.join(" ", command));
    process = newProcessBuilder(command).start();
    lifeline = process.getOutputStream();
  }

  private ProcessBuilder newProcessBuilder(List<String> command) {
    return new ProcessBuilder(command)
        .directory(home.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
  }

  private void awaitReady() throws InterruptedException {
    Instant deadline = Instant.now().plus(readyTimeout());
    Exception lastFailure = null;
    try (ReadinessProbe probe = readinessProbe()) {
      while (true) {
        if (!process.isAlive()) {
          throw new StackStartException(
              name()
                  + " exited with code "
                  + process.exitValue()
                  + " before answering\n"
                  + LogTail.of(logFile));
        }
        try {
          if (probe.answers()) {
            return;
          }
        } catch (Exception e) {
          lastFailure = e;
        }
        if (Instant.now().isAfter(deadline)) {
          throw new StackStartException(
              name()
                  + " did not answer within "
                  + readyTimeout().toSeconds()
                  + " s (last probe error: "
                  + lastFailure
                  + ")\n"
                  + LogTail.of(logFile),
              lastFailure);
        }
        awaitExitOrPollInterval();
      }
    }
  }

  /** Waits one poll interval, returning early if the child dies so we fail fast. */
  private void awaitExitOrPollInterval() throws InterruptedException {
    try {
      process.onExit().get(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // Still running: poll again.
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot watch " + name(), e);
    }
  }

  private void closeLifeline() {
    try {
      lifeline.close();
    } catch (IOException e) {
      // The child is already gone: nothing left to tell it.
    }
  }

  private void stopQuietly(Throwable cause) {
    try {
      stop();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private void appendToLog(String line) {
    String entry =
        "=== parley-stack " + Instant.now() + " " + name() + ": " + line + System.lineSeparator();
    try {
      Files.writeString(
          logFile,
          entry,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + logFile, e);
    }
  }
}
