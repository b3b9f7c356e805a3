package io.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.devstack.StackOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The load generator's short mode in CI: a few seconds of every scenario (idle connections held by
 * a child process, a 1:1 step and a group step, Parley and the relay) on its own stack. It judges
 * nothing about speed (docs/benchmarks.md does, from real runs); it proves the harness runs end to
 * end and that under its light load every send is acked.
 */
class LoadGenSmokeIntegrationTest {

  @Test
  void everyScenarioRunsAndEverySendIsAcked() throws Exception {
    Path dir = StackOptions.defaults().projectDir().resolve("target/bench-load");
    Path plot = dir.resolve("smoke-latency.png");
    Files.deleteIfExists(plot);
    Set<Path> before = csvFiles(dir);

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
                plot.toString());

    assertEquals(0, exit, "the load generator ran to its end");
    assertTrue(Files.size(plot) > 0, "and drew its plot");
    List<Path> written = csvFiles(dir).stream().filter(f -> !before.contains(f)).toList();
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
  }

  private static String scenario(String row) {
    String[] cells = row.split(",");
    return (cells[0].startsWith("group") ? "group" : cells[0]) + " " + cells[1];
  }

  private static Set<Path> csvFiles(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.getFileName().toString().matches("results-.*\\.csv"))
          .collect(Collectors.toSet());
    }
  }
}
