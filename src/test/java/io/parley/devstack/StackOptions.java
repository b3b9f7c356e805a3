package io.parley.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link LocalStack#start(StackOptions)} runs and where.
 *
 * @param projectDir the Parley checkout; its {@code stack/<service>/pom.xml} files describe each
 *     service's classpath
 * @param workDir a folder owned by the stack: data, configs and logs go here and it is deleted on
 *     close
 * @param services the services to start
 */
public record StackOptions(Path projectDir, Path workDir, Set<StackService> services) {

  /** System property naming the project folder; the Surefire configuration sets it. */
  public static final String PROJECT_DIR_PROPERTY = "parley.project-dir";

  public StackOptions {
    Objects.requireNonNull(projectDir, "projectDir");
    Objects.requireNonNull(workDir, "workDir");
    Objects.requireNonNull(services, "services");
    projectDir = projectDir.toAbsolutePath().normalize();
    workDir = workDir.toAbsolutePath().normalize();
    services =
        services.isEmpty()
            ? Collections.unmodifiableSet(EnumSet.noneOf(StackService.class))
            : Collections.unmodifiableSet(EnumSet.copyOf(services));
  }

  /**
   * All services, the project folder from {@value #PROJECT_DIR_PROPERTY} (else the cwd), a fresh
   * temp work folder.
   */
  public static StackOptions defaults() {
    Path projectDir =
        Path.of(System.getProperty(PROJECT_DIR_PROPERTY, System.getProperty("user.dir")));
    return new StackOptions(projectDir, freshTempDir(), EnumSet.allOf(StackService.class));
  }

  /** A copy that starts only the given services. */
  public StackOptions only(StackService... chosen) {
    Set<StackService> set = EnumSet.noneOf(StackService.class);
    set.addAll(Arrays.asList(chosen));
    return new StackOptions(projectDir, workDir, set);
  }

  private static Path freshTempDir() {
    try {
      return Files.createTempDirectory("parley-stack-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a work folder for the local stack", e);
    }
  }
}
