package io.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SendPathStepTest {

  private final Map<String, Double> cpu = new LinkedHashMap<>();

  private SendPathStep step() {
    cpu.put("node-1", 0.5);
    cpu.put("node-2", 0.25);
    cpu.put("loadgen", 0.25);
    return new SendPathStep(
        5,
        50,
        100,
        250,
        248,
        10,
        20,
        30,
        11,
        21,
        31,
        1000,
        990,
        10,
        0,
        Map.of("rate_limited", 2L),
        cpu,
        5.0,
        List.of(new GcLog.Pauses(1, 14, 14), new GcLog.Pauses(0, 0, 0)),
        2.5,
        40);
  }

  @Test
  void cpuPerMessageIsTheWindowsCpuOverTheSends() {
    SendPathStep step = step();
    assertEquals(2.0, step.cpuMillisPerMessage("node-1"), 1e-9);
    assertEquals(4.0, step.totalCpuMillisPerMessage(), 1e-9);
    assertEquals(20.0, step.totalCpuPercent(), 1e-9);
    assertEquals(2, step.errorCount());
  }

  @Test
  void rowsHaveAsManyCellsAsTheirHeaders() {
    SendPathStep step = step();
    List<String> names = List.copyOf(cpu.keySet());
    String header = SendPathStep.header(names, 2).lines().findFirst().orElseThrow();
    assertEquals(header.split("\\|").length, step.row().split("\\|").length);
    assertEquals(
        SendPathStep.csvHeader(names, 2).split(",").length, step.csv().split(",", -1).length);
  }
}
