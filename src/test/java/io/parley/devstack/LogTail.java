package io.parley.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/** Reads the last lines of a service log, for error messages. */
final class LogTail {

  static final int DEFAULT_LINES = 40;

  private LogTail() {}

  static String of(Path file) {
    return of(file, DEFAULT_LINES);
  }

  static String of(Path file, int lines) {
    if (!Files.exists(file)) {
      return "(no log at " + file + ")";
    }
    Deque<String> tail = new ArrayDeque<>(lines);
    // Logs may contain bytes that are not valid UTF-8 (native output): decode leniently.
    try (Stream<String> all =
        new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines()) {
      all.forEach(
          line -> {
            if (tail.size() == lines) {
              tail.removeFirst();
            }
            tail.addLast(line);
          });
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
    return "--- last " + tail.size() + " lines of " + file + " ---\n" + String.join("\n", tail);
  }
}
