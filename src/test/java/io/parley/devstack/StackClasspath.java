package io.parley.devstack;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The classpath of one service, resolved by Maven from {@code stack/<name>/pom.xml}.
 *
 * <p>Each service has its own tiny pom so its dependencies (Scala, Jackson, Guava versions of Kafka
 * and Cassandra) never meet Parley's. Resolution costs a Maven run, so the result is cached in
 * {@code target/stack/<name>.classpath} and redone only when the pom is newer than the cache or a
 * cached jar has disappeared (e.g. a wiped local repository).
 */
final class StackClasspath {

  /** Environment variable naming the Maven executable; {@code mvn} on PATH otherwise. */
  static final String MAVEN_ENV = "PARLEY_MVN";

  private static final long MAVEN_TIMEOUT_MINUTES = 15;

  private StackClasspath() {}

  /** Returns the service's jars, resolving them first if the cache is missing or stale. */
  static List<Path> resolve(Path projectDir, String name) {
    Path pom = projectDir.resolve("stack").resolve(name).resolve("pom.xml");
    Path cache = projectDir.resolve("target").resolve("stack").resolve(name + ".classpath");
    try {
      if (!Files.isRegularFile(pom)) {
        throw new StackStartException("no pom for service " + name + " at " + pom);
      }
      if (isFresh(cache, pom)) {
        return read(cache);
      }
      runMaven(pom, cache);
      return read(cache);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve the classpath of " + name, e);
    }
  }

  static String join(List<Path> jars) {
    return String.join(File.pathSeparator, jars.stream().map(Path::toString).toList());
  }

  private static boolean isFresh(Path cache, Path pom) throws IOException {
    return Files.isRegularFile(cache)
        && Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(pom)) >= 0
        && read(cache).stream().allMatch(Files::isRegularFile);
  }

  private static List<Path> read(Path cache) throws IOException {
    String text = Files.readString(cache, StandardCharsets.UTF_8).trim();
    return Arrays.stream(text.split(File.pathSeparator))
        .filter(s -> !s.isBlank())
        .map(Path::of)
        .toList();
  }

  private static void runMaven(Path pom, Path cache) throws IOException {
    Files.createDirectories(cache.getParent());
    // Write to a private file and move it in atomically: two JVMs resolving at once
    // must never read each other's half-written cache.
    Path partial =
        Files.createTempFile(cache.getParent(), cache.getFileName().toString(), ".partial");
    Path mavenLog = cache.resolveSibling(cache.getFileName() + ".mvn.log");
    String maven = System.getenv().getOrDefault(MAVEN_ENV, "mvn");
    Process mvn =
        new ProcessBuilder(
                maven,
                "-q",
                "-B",
                "-f",
                pom.toString(),
                "dependency:build-classpath",
                "-Dmdep.outputFile=" + partial)
            .redirectErrorStream(true)
            .redirectOutput(mavenLog.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    try {
      if (!mvn.waitFor(MAVEN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        mvn.destroyForcibly();
        throw new StackStartException(
            "Maven did not resolve "
                + pom
                + " within "
                + MAVEN_TIMEOUT_MINUTES
                + " min\n"
                + LogTail.of(mavenLog));
      }
      if (mvn.exitValue() != 0 || Files.size(partial) == 0) {
        throw new StackStartException(
            "Maven failed to resolve "
                + pom
                + " (exit "
                + mvn.exitValue()
                + ")\n"
                + LogTail.of(mavenLog));
      }
      Files.move(
          partial, cache, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (InterruptedException e) {
      mvn.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new StackStartException("interrupted while resolving " + pom, e);
    } finally {
      Files.deleteIfExists(partial);
    }
  }
}
