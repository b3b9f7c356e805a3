package io.parley;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The jar built by {@code mvn -B package} and the image's {@code /app/lib} hold the node alone: no
 * launcher, test kit, load generator, checker or test-only library. Reads the real artifacts, so it
 * runs after package (failsafe, {@code mvn -B verify}).
 */
class ProductionArtifactIntegrationTest {

  private static final Path PROJECT = Path.of(System.getProperty("parley.project-dir", "."));
  private static final Path TARGET = PROJECT.resolve("target");

  /** Packages of src/test that must never reach the node's classpath. */
  private static final List<String> TEST_PACKAGES =
      List.of(
          "io/parley/devstack/", "io/parley/bench/", "io/parley/checker/", "io/parley/testing/");

  /**
   * Test tooling by artifact name: caught even if declared with the wrong scope, where it would be
   * on the runtime classpath too.
   */
  private static final Pattern TEST_TOOLING =
      Pattern.compile(
          "(junit|opentest4j|apiguardian|jazzer|picocli|jfreechart|awaitility|archunit|hamcrest"
              + "|embedded-redis|.*-testkit).*\\.jar");

  @Test
  void theJarHoldsTheNodeAndNoTestClass() throws IOException {
    Set<String> entries = jarEntries(theJar());
    assertTrue(entries.contains("io/parley/app/Main.class"), "the node's main class");
    assertTrue(entries.contains("application.conf"), "the node's configuration");

    List<String> fromTests =
        entries.stream()
            .filter(name -> TEST_PACKAGES.stream().anyMatch(name::startsWith))
            .toList();
    assertEquals(List.of(), fromTests, "entries of test packages in the jar");

    Set<String> testOutput = relativeFiles(TARGET.resolve("test-classes"));
    assertTrue(
        testOutput.contains("io/parley/devstack/LocalRun.class"), "the launcher is a test class");
    Set<String> both = new TreeSet<>(testOutput);
    both.retainAll(entries);
    assertEquals(Set.of(), both, "files of target/test-classes in the jar");
  }

  @Test
  void theImageLibraryIsTheRuntimeClasspathAndNothingElse() throws IOException {
    Set<String> lib = fileNames(Files.list(TARGET.resolve("lib")));
    Set<String> runtime = classpathNames("runtime.classpath");
    assertEquals(runtime, lib, "target/lib against the runtime classpath");

    Set<String> testOnly = classpathNames("test.classpath");
    testOnly.removeAll(runtime);
    assertTrue(
        testOnly.stream().anyMatch(name -> name.startsWith("junit-jupiter-api")),
        "the test classpath has the test libraries: " + testOnly);
    assertEquals(Set.of(), filter(lib, testOnly::contains), "test-scope jars in target/lib");
    assertEquals(
        Set.of(), filter(lib, name -> TEST_TOOLING.matcher(name).matches()), "test tooling");

    for (String jar : lib) {
      Set<String> ours =
          filter(jarEntries(TARGET.resolve("lib").resolve(jar)), e -> e.startsWith("io/parley/"));
      assertEquals(Set.of(), ours, "Parley classes in " + jar);
    }
  }

  @Test
  void theImageCopiesOnlyTheJarAndTheRuntimeLibrary() throws IOException {
    String dockerfile = Files.readString(PROJECT.resolve("Dockerfile"));
    Matcher copies =
        Pattern.compile("^(?:COPY|ADD)\\s+(.+)$", Pattern.MULTILINE).matcher(dockerfile);
    Set<String> copied = new TreeSet<>();
    while (copies.find()) {
      copied.add(copies.group(1).trim());
    }
    assertEquals(
        Set.of("target/lib/ /app/lib/", "target/parley-*.jar /app/lib/"),
        copied,
        "what the Dockerfile puts in the image");
  }

  private static Path theJar() throws IOException {
    try (Stream<Path> files = Files.list(TARGET)) {
      List<Path> jars =
          files
              .filter(f -> f.getFileName().toString().matches("parley-.*\\.jar"))
              .filter(f -> !f.getFileName().toString().endsWith("-tests.jar"))
              .toList();
      assertEquals(1, jars.size(), "one jar matches the Dockerfile's target/parley-*.jar: " + jars);
      return jars.get(0);
    }
  }

  private static Set<String> jarEntries(Path jar) throws IOException {
    try (JarFile file = new JarFile(jar.toFile())) {
      return file.stream()
          .filter(entry -> !entry.isDirectory())
          .map(ZipEntry::getName)
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static Set<String> relativeFiles(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(Files::isRegularFile)
          .map(file -> root.relativize(file).toString().replace(File.separatorChar, '/'))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** The jar names of a classpath file the build writes (maven-dependency-plugin). */
  private static Set<String> classpathNames(String file) throws IOException {
    String classpath = Files.readString(TARGET.resolve(file)).trim();
    return fileNames(Stream.of(classpath.split(File.pathSeparator)).map(Path::of));
  }

  private static Set<String> fileNames(Stream<Path> paths) {
    try (paths) {
      return paths
          .map(path -> path.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static Set<String> filter(Set<String> names, Predicate<String> keep) {
    return names.stream().filter(keep).collect(Collectors.toCollection(TreeSet::new));
  }
}
