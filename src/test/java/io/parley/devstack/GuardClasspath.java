package io.parley.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Puts {@link ChildGuard} (and nothing else of ours) in a classpath folder for child JVMs.
 *
 * <p>Pointing the child at the launcher's own classpath would leak Parley's {@code
 * application.conf}, {@code logback.xml} and dependencies into Kafka and Cassandra, whose own
 * versions must win; so we copy just the guard's class file.
 */
final class GuardClasspath {

  static final String MAIN_CLASS = ChildGuard.class.getName();

  private GuardClasspath() {}

  /** Writes the guard under {@code folder} and returns that folder, ready for {@code -cp}. */
  static Path install(Path folder) {
    String resource = ChildGuard.class.getSimpleName() + ".class";
    Path target = folder.resolve(MAIN_CLASS.replace('.', '/') + ".class");
    try (InputStream bytes = ChildGuard.class.getResourceAsStream(resource)) {
      if (bytes == null) {
        throw new IllegalStateException(
            "class file of " + MAIN_CLASS + " not found on the classpath");
      }
      Files.createDirectories(target.getParent());
      Files.write(target, bytes.readAllBytes());
      return folder;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the child guard in " + folder, e);
    }
  }
}
