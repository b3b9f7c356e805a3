package io.parley.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's {@code -Xlog:gc} file, read from a mark on: the stop-the-world pauses logged since (G1's
 * {@code Pause Young}, {@code Pause Remark}, {@code Pause Cleanup}, {@code Pause Full}), exact to
 * the window, where the nodes' Micrometer meters only keep a decaying maximum.
 */
final class GcLog {

  private static final Pattern PAUSE = Pattern.compile(" Pause .* (\\d+(?:\\.\\d+)?)ms$");

  /** Pauses in one window: how many, their sum and the longest, in ms. */
  record Pauses(int count, double totalMillis, double maxMillis) {}

  private final Path file;
  private long mark;

  GcLog(Path file) {
    this.file = file;
  }

  /** From now on: later calls to {@link #pausesSinceMark} count only what is logged after this. */
  void mark() throws IOException {
    mark = Files.exists(file) ? Files.size(file) : 0;
  }

  Pauses pausesSinceMark() throws IOException {
    if (!Files.exists(file)) {
      return new Pauses(0, Double.NaN, Double.NaN);
    }
    byte[] added;
    try (RandomAccessFile log = new RandomAccessFile(file.toFile(), "r")) {
      added = new byte[(int) Math.max(0, log.length() - mark)];
      log.seek(mark);
      log.readFully(added);
    }
    int count = 0;
    double total = 0;
    double max = 0;
    for (String line : new String(added, StandardCharsets.UTF_8).split("\n")) {
      Matcher pause = PAUSE.matcher(line.strip());
      if (pause.find()) {
        double millis = Double.parseDouble(pause.group(1));
        count++;
        total += millis;
        max = Math.max(max, millis);
      }
    }
    return new Pauses(count, total, max);
  }
}
