package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The steps of one run: each printed as a table row when it ends and appended to the run's CSV (so
 * a run cut short still leaves its figures); at the end, where the 1:1 p99 crosses the thresholds
 * and the plot.
 */
final class Results {

  private final Path csv;
  private final List<Step> steps = new ArrayList<>();

  Results(Path csv) throws IOException {
    this.csv = csv;
    Files.writeString(csv, Step.CSV_HEADER + "\n");
  }

  void add(Step step) throws IOException {
    steps.add(step);
    System.out.println(step.row());
    Files.writeString(csv, step.csv() + "\n", java.nio.file.StandardOpenOption.APPEND);
  }

  /** One line per target and threshold: the first rate whose 1:1 ack p99 passes it. */
  void printCrossings(double... thresholdsMillis) {
    System.out.println();
    for (String target : List.of("parley", "relay")) {
      List<Step> sweep =
          steps.stream()
              .filter(s -> s.scenario().equals("1:1") && s.target().equals(target))
              .toList();
      if (sweep.isEmpty()) {
        continue;
      }
      for (double threshold : thresholdsMillis) {
        System.out.println(crossing(target, sweep, threshold));
      }
    }
  }

  private static String crossing(String target, List<Step> sweep, double threshold) {
    Optional<Step> first = sweep.stream().filter(s -> s.ackP99() > threshold).findFirst();
    Step lowest = sweep.get(0);
    if (first.isEmpty()) {
      return String.format(
          Locale.ROOT,
          "%s: ack p99 stays under %.0f ms up to %d sends/s",
          target,
          threshold,
          sweep.get(sweep.size() - 1).rate());
    }
    if (first.get() == lowest) {
      return String.format(
          Locale.ROOT,
          "%s: ack p99 is over %.0f ms already at the lowest rate, %d sends/s (p50 %.1f, p99 %.1f"
              + " ms)",
          target,
          threshold,
          lowest.rate(),
          lowest.ackP50(),
          lowest.ackP99());
    }
    Step before = sweep.get(sweep.indexOf(first.get()) - 1);
    return String.format(
        Locale.ROOT,
        "%s: ack p99 passes %.0f ms between %d sends/s (%.1f ms) and %d sends/s (%.1f ms)",
        target,
        threshold,
        before.rate(),
        before.ackP99(),
        first.get().rate(),
        first.get().ackP99());
  }

  void plot(Path png) throws IOException {
    LatencyPlot.write(steps, png);
    System.out.println("plot: " + png + ", figures: " + csv);
  }
}
