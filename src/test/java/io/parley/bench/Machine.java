package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on, printed with them. */
final class Machine {
  private Machine() {}

  static void print() throws IOException {
    String model =
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(line -> line.startsWith("model name"))
            .findFirst()
            .map(line -> line.substring(line.indexOf(':') + 2))
            .orElse("unknown CPU");
    System.out.printf(
        "machine: %d cores (%s), %d GiB, Java %s, everything on this one box%n",
        Runtime.getRuntime().availableProcessors(),
        model,
        Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(line -> line.startsWith("MemTotal:"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")))
                .findFirst()
                .orElse(0)
            / 1024
            / 1024,
        System.getProperty("java.version"));
  }

  /**
   * Seconds so far in which some runnable task on this box waited for a CPU (Linux PSI, {@code
   * /proc/pressure/cpu} "some"); NaN where the kernel has no PSI. Per step, it says how crowded the
   * two cores were, for Parley and the relay alike.
   */
  static double cpuStalledSeconds() {
    try {
      return Files.readAllLines(Path.of("/proc/pressure/cpu")).stream()
              .filter(line -> line.startsWith("some "))
              .mapToLong(line -> Long.parseLong(line.substring(line.indexOf("total=") + 6)))
              .findFirst()
              .orElseThrow()
          / 1e6;
    } catch (IOException | RuntimeException noPsi) {
      return Double.NaN;
    }
  }
}
