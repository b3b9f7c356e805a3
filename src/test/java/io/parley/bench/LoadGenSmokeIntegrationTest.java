package io.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.devstack.StackOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The load generator's short mode in CI: a few seconds of every scenario (idle connections held by
 * a child process, a 1:1 step and a group step, Parley and the relay, and one send-path step for
 * 1:1 and for groups of 5 with node 1 recorded by JFR) on its own stack. It judges nothing about
 * speed (docs/benchmarks.md does, from real runs); it proves the harness runs end to end, that
 * under its light load every send is acked and every delivery seen, and that each process's CPU per
 * message is measured.
 */
class LoadGenSmokeIntegrationTest {

  @Test
  void everyScenarioRunsAndEverySendIsAcked() throws Exception {
    Path dir = StackOptions.defaults().projectDir().resolve("target/bench-load");
    Path plot = dir.resolve("smoke-latency.png");
    Files.deleteIfExists(plot);
    Set<Path> before = runFiles(dir, "results-.*\\.csv");
    Set<Path> sendPathBefore = runFiles(dir, "send-path-.*\\.csv");
    Set<Path> jfrBefore = runFiles(dir, "send-path-.*\\.jfr");

    int exit =
        new CommandLine(new LoadGen())
            .execute(
                "--idle",
                "200",
                "--pairs",
                "5",
                "--rates",
                "20",
                "--groups",
                "20",
                "--group-rate",
                "5",
                "--step",
                "PT5S",
                "--warmup",
                "PT5S",
                "--warmup-rate",
                "20",
                "--plot",
                plot.toString(),
                "--clients",
                "20",
                "--members",
                "2,5",
                "--ladder",
                "20",
                "--ladder-warmup",
                "PT2S",
                "--ladder-window",
                "PT3S",
                "--jit-warmup",
                "PT2S",
                "--jit-warmup-rate",
                "10",
                "--jfr");

    assertEquals(0, exit, "the load generator ran to its end");
    assertTrue(Files.size(plot) > 0, "and drew its plot");
    List<Path> written =
        runFiles(dir, "results-.*\\.csv").stream().filter(f -> !before.contains(f)).toList();
    assertEquals(1, written.size(), "one results file: " + written);
    List<String> rows = Files.readAllLines(written.get(0));
    assertEquals(Step.CSV_HEADER, rows.get(0));
    Set<String> scenarios =
        rows.stream().skip(1).map(row -> scenario(row)).collect(Collectors.toSet());
    assertEquals(Set.of("1:1 parley", "1:1 relay", "group parley", "group relay"), scenarios);
    for (String row : rows.subList(1, rows.size())) {
      String[] cells = row.split(",");
      assertTrue(Long.parseLong(cells[3]) > 0, "sent something: " + row);
      assertEquals(cells[3], cells[4], "every send acked: " + row);
      assertEquals("0", cells[5], "no errors: " + row);
    }
    sendPathMeasured(written(dir, "send-path-.*\\.csv", sendPathBefore, 1).get(0));
    // One recording of node 1 per ladder (1:1, groups of 5), in its highest step.
    for (Path jfr : written(dir, "send-path-node-1-m[25]-20-.*\\.jfr", jfrBefore, 2)) {
      assertTrue(Files.size(jfr) > 0, "node 1's JFR was written: " + jfr);
    }
  }

  /** Both ladders ran, every send acked and delivered to each other member, CPU measured. */
  private static void sendPathMeasured(Path csv) throws Exception {
    List<String> rows = Files.readAllLines(csv);
    List<String> header = List.of(rows.get(0).split(","));
    List<Map<String, String>> steps = new ArrayList<>();
    for (String row : rows.subList(1, rows.size())) {
      String[] cells = row.split(",", -1);
      Map<String, String> step = new HashMap<>();
      for (int i = 0; i < header.size(); i++) {
        step.put(header.get(i), cells[i]);
      }
      steps.add(step);
    }
    assertEquals(
        Set.of("2", "5"), steps.stream().map(s -> s.get("members")).collect(Collectors.toSet()));
    for (Map<String, String> step : steps) {
      long sent = Long.parseLong(step.get("sent"));
      int others = Integer.parseInt(step.get("members")) - 1;
      assertTrue(sent > 0, "sent something: " + step);
      assertEquals(sent, Long.parseLong(step.get("acked")), "every send acked: " + step);
      assertEquals("0", step.get("errors"), "no errors: " + step);
      assertEquals(
          sent * others, Long.parseLong(step.get("deliveries_seen")), "all delivered: " + step);
      assertEquals("0", step.get("deliveries_lost"), "none lost: " + step);
      for (String process : List.of("node-1", "node-2", "loadgen")) {
        assertTrue(
            Double.parseDouble(step.get("cpu_ms_per_msg_" + process)) > 0,
            process + " CPU measured: " + step);
      }
      for (String column : header) {
        if (column.startsWith("cpu_") || column.startsWith("gc_")) {
          assertTrue(Double.parseDouble(step.get(column)) >= 0, column + " is a figure: " + step);
        }
      }
    }
  }

  private static List<Path> written(Path dir, String pattern, Set<Path> before, int count)
      throws Exception {
    List<Path> written = runFiles(dir, pattern).stream().filter(f -> !before.contains(f)).toList();
    assertEquals(count, written.size(), count + " new " + pattern + ": " + written);
    return written;
  }

  private static String scenario(String row) {
    String[] cells = row.split(",");
    return (cells[0].startsWith("group") ? "group" : cells[0]) + " " + cells[1];
  }

  private static Set<Path> runFiles(Path dir, String pattern) throws Exception {
    if (!Files.isDirectory(dir)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.getFileName().toString().matches(pattern))
          .collect(Collectors.toSet());
    }
  }
}
