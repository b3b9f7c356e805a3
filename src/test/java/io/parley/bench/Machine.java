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
}
