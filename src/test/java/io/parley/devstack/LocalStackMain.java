package io.parley.devstack;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;

/**
 * Runs the local stack until this JVM is told to stop (Ctrl-C, SIGTERM; on kill -9 the children
 * stop by themselves).
 *
 * <p>Arguments: the services to run ({@code redis kafka cassandra}); all when none given. Prints
 * one {@code <service>=<address>} line per service on stdout, e.g. {@code
 * redis=redis://127.0.0.1:41234}, and, when the system property {@value #ENV_FILE_PROPERTY} names a
 * file, writes {@code PARLEY_...=<address>} lines there (deleted again on exit). Progress and
 * errors go to stderr.
 */
public final class LocalStackMain {

  public static final String ENV_FILE_PROPERTY = "parley.stack.env-file";

  /** Optional work folder (deleted on exit like the default temp one), e.g. to find the logs. */
  public static final String WORK_DIR_PROPERTY = "parley.stack.work-dir";

  private LocalStackMain() {}

  public static void main(String[] args) throws Exception {
    quietLoggingUnlessConfigured();
    StackOptions options = StackOptions.defaults();
    String workDir = System.getProperty(WORK_DIR_PROPERTY);
    if (workDir != null) {
      Files.deleteIfExists(options.workDir()); // the fresh, still empty, default one
      options = new StackOptions(options.projectDir(), Path.of(workDir), options.services());
    }
    if (args.length > 0) {
      options = options.only(parse(args));
    }
    System.err.println(
        "parley local stack: starting " + options.services() + " in " + options.workDir());
    LocalStack stack;
    try {
      stack = LocalStack.start(options);
    } catch (RuntimeException e) {
      System.err.println("parley local stack: start failed: " + e.getMessage());
      System.exit(1);
      return;
    }
    stack
        .services()
        .forEach(service -> System.out.println(service.name() + "=" + service.address()));
    System.out.flush();
    stack
        .services()
        .forEach(
            s ->
                System.err.printf(
                    "parley local stack: %s ready in %.1f s, pid %d, log %s%n",
                    s.name(), s.lastStartTime().toMillis() / 1000.0, s.pid(), s.logFile()));
    String envFile = System.getProperty(ENV_FILE_PROPERTY);
    if (envFile != null) {
      writeEnvFile(Path.of(envFile), stack);
    }
    // The stack's own shutdown hook stops the services; we only wait for it.
    new CountDownLatch(1).await();
  }

  private static StackService[] parse(String[] args) {
    return Arrays.stream(args)
        .map(
            arg -> {
              try {
                return StackService.valueOf(arg.trim().toUpperCase(Locale.ROOT));
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                    "unknown service '"
                        + arg
                        + "'; expected any of "
                        + Arrays.toString(StackService.values()),
                    e);
              }
            })
        .toArray(StackService[]::new);
  }

  /** The variables the application reads to find the stack, e.g. PARLEY_REDIS_URI. */
  static Map<String, String> environment(LocalStack stack) {
    Map<String, String> env = new LinkedHashMap<>();
    stack.services().forEach(service -> env.put(service.environmentVariable(), service.address()));
    return env;
  }

  private static void writeEnvFile(Path file, LocalStack stack) throws IOException {
    StringBuilder text = new StringBuilder();
    environment(stack)
        .forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
    Path absolute = file.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    // Written whole and moved in place: a script polling for the file never reads half of it.
    Path partial =
        Files.createTempFile(absolute.getParent(), absolute.getFileName().toString(), ".partial");
    Files.writeString(partial, text, StandardCharsets.UTF_8);
    Files.move(
        partial, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> deleteQuietly(absolute), "parley-stack-env-file"));
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      System.err.println("parley local stack: cannot delete " + file + ": " + e);
    }
  }

  /**
   * Without a logback configuration, logback logs everything at DEBUG to stdout, which would bury
   * the address lines under the readiness clients' chatter (they warn on every refused connection
   * while a service is still starting).
   */
  private static void quietLoggingUnlessConfigured() {
    ClassLoader loader = LocalStackMain.class.getClassLoader();
    boolean configured =
        System.getProperty("logback.configurationFile") != null
            || loader.getResource("logback.xml") != null
            || loader.getResource("logback-test.xml") != null;
    if (!configured
        && LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
      root.setLevel(Level.ERROR);
    }
  }
}
