package io.parley.devstack;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Finds a {@code redis-server} executable: the one on PATH if there is one (Debian's 7.x), else the
 * Linux binary shipped inside the embedded-redis jar of {@code stack/redis/pom.xml} (6.2),
 * extracted once into {@code target/stack/}.
 */
final class RedisBinary {

  private RedisBinary() {}

  static Path locate(Path projectDir) {
    return onPath().orElseGet(() -> extractEmbedded(projectDir));
  }

  static Optional<Path> onPath() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "redis-server");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate.toAbsolutePath());
      }
    }
    return Optional.empty();
  }

  private static Path extractEmbedded(Path projectDir) {
    Path jar =
        StackClasspath.resolve(projectDir, "redis").stream()
            .filter(p -> p.getFileName().toString().startsWith("embedded-redis-"))
            .findFirst()
            .orElseThrow(
                () ->
                    new StackStartException("embedded-redis jar missing from stack/redis/pom.xml"));
    String suffix = "-linux-" + linuxArch();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      ZipEntry entry =
          zip.stream()
              .filter(e -> e.getName().startsWith("redis-server-") && e.getName().endsWith(suffix))
              .findFirst()
              .orElseThrow(
                  () -> new StackStartException("no redis-server*" + suffix + " in " + jar));
      Path target = projectDir.resolve("target").resolve("stack").resolve(entry.getName());
      if (!Files.isExecutable(target) || Files.size(target) != entry.getSize()) {
        extract(zip, entry, target);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract redis-server from " + jar, e);
    }
  }

  private static void extract(ZipFile zip, ZipEntry entry, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    // Extract beside the target and move it in atomically, so that a concurrent JVM
    // never executes a half-written binary.
    Path partial = Files.createTempFile(target.getParent(), entry.getName(), ".partial");
    try (InputStream in = zip.getInputStream(entry)) {
      Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
      if (!partial.toFile().setExecutable(true)) {
        throw new IOException("cannot make " + partial + " executable");
      }
      Files.move(
          partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(partial);
    }
  }

  private static String linuxArch() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default ->
          throw new StackStartException(
              "no embedded redis-server for architecture " + arch + ": install redis-server");
    };
  }
}
