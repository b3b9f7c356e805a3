package io.parley.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.parley.devstack.StackOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Node.js scripts of the tests (src/test/browser, src/test/spec-lint): their npm packages installed
 * once, from the lock file, beside them, and the scripts run with a deadline. Node.js 18+ and npm
 * must be on the PATH.
 */
public final class NodeScripts {

  private static final Duration NPM_DEADLINE = Duration.ofMinutes(3);

  /** A finished command: its exit code, and its output and errors in one text. */
  public record Outcome(int exitCode, String output) {}

  private NodeScripts() {}

  public static Path projectDir() {
    return Path.of(System.getProperty(StackOptions.PROJECT_DIR_PROPERTY, "")).toAbsolutePath();
  }

  /** {@code npm ci} in {@code dir} unless {@code node_modules/<module>} is there already. */
  public static void install(Path dir, String module) {
    if (Files.isDirectory(dir.resolve("node_modules").resolve(module))) {
      return;
    }
    Outcome install = run(dir, List.of("npm", "ci", "--no-audit", "--no-fund"), NPM_DEADLINE);
    assertEquals(0, install.exitCode(), () -> "npm ci failed in " + dir + ":\n" + install.output());
  }

  /** Runs a command to completion within {@code deadline}, output and errors in one log. */
  public static Outcome run(Path dir, List<String> command, Duration deadline) {
    try {
      Path log = Files.createTempFile("parley-node-", ".log");
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      // playwright-core downloads no browser, but say so to anything that might try.
      builder.environment().put("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
      Process process = builder.start();
      if (!process.waitFor(deadline.toSeconds(), TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        fail(command + " still running after " + deadline + ":\n" + read(log));
      }
      return new Outcome(process.exitValue(), read(log));
    } catch (IOException e) {
      throw new AssertionError(
          "could not run " + command + " (Node.js 18+ and npm must be on the PATH)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String read(Path log) throws IOException {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
