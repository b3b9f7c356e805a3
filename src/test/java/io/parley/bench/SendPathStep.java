package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One step of the send-path ladder ({@link SendPath}), as a table row and a CSV row. Latencies in
 * ms from each send's scheduled time; CPU per process in seconds over the measured window (a
 * column's name is the process's); GC pauses per node from its GC log over the same window.
 */
record SendPathStep(
    int members,
    int rate,
    int clients,
    long sent,
    long acked,
    double ackP50,
    double ackP99,
    double ackP999,
    double deliveryP50,
    double deliveryP99,
    double deliveryP999,
    long deliveriesExpected,
    long deliveriesSeen,
    long deliveriesLost,
    long deliveriesDoubled,
    Map<String, Long> errors,
    Map<String, Double> cpuSeconds,
    double windowSeconds,
    List<GcLog.Pauses> nodeGc,
    double scheduleLagMaxMillis,
    double cpuPressurePercent) {

  long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /** CPU ms of one process per message sent in the window. */
  double cpuMillisPerMessage(String process) {
    return sent == 0 ? Double.NaN : 1000 * cpuSeconds.get(process) / sent;
  }

  double totalCpuMillisPerMessage() {
    return sent == 0
        ? Double.NaN
        : 1000 * cpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum() / sent;
  }

  /** Every process together, in % of one core (200% = both cores of a 2-core box). */
  double totalCpuPercent() {
    return 100
        * cpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum()
        / windowSeconds;
  }

  String scenario() {
    return members == 2 ? "1:1" : "groups of " + members;
  }

  static String header(List<String> processes, int nodes) {
    List<String> cells =
        new ArrayList<>(List.of("scenario", "msg/s", "per client/s", "sent", "acked"));
    cells.add("ack p50 / p99 / p99.9 ms");
    cells.add("delivery p50 / p99 / p99.9 ms");
    cells.add("deliveries expected / seen / lost");
    cells.add("errors");
    processes.forEach(p -> cells.add(p + " CPU ms/msg"));
    cells.add("total CPU ms/msg");
    cells.add("all processes CPU");
    for (int i = 1; i <= nodes; i++) {
      cells.add("node-" + i + " GC pauses / total / max ms");
    }
    cells.add("schedule lag max ms");
    cells.add("CPU pressure");
    return "| " + String.join(" | ", cells) + " |\n|" + "---|".repeat(cells.size());
  }

  String row() {
    List<String> cells = new ArrayList<>();
    cells.add(scenario());
    cells.add(Integer.toString(rate));
    cells.add(format("%.2f", (double) rate / clients));
    cells.add(Long.toString(sent));
    cells.add(Long.toString(acked));
    cells.add(Step.triple(ackP50, ackP99, ackP999));
    cells.add(Step.triple(deliveryP50, deliveryP99, deliveryP999));
    cells.add(
        deliveriesExpected
            + " / "
            + deliveriesSeen
            + " / "
            + deliveriesLost
            + (deliveriesDoubled > 0 ? " (" + deliveriesDoubled + " doubled)" : ""));
    cells.add(errors.isEmpty() ? "0" : errorsByCode(", "));
    cpuSeconds.keySet().forEach(p -> cells.add(format("%.2f", cpuMillisPerMessage(p))));
    cells.add(format("%.2f", totalCpuMillisPerMessage()));
    cells.add(format("%.0f%%", totalCpuPercent()));
    nodeGc.forEach(
        gc -> cells.add(format("%d / %.0f / %.0f", gc.count(), gc.totalMillis(), gc.maxMillis())));
    cells.add(Step.number(scheduleLagMaxMillis));
    cells.add(format("%.0f%%", cpuPressurePercent));
    return "| " + String.join(" | ", cells) + " |";
  }

  static String csvHeader(List<String> processes, int nodes) {
    List<String> cells =
        new ArrayList<>(
            List.of(
                "members",
                "rate",
                "clients",
                "sent",
                "acked",
                "ack_p50_ms",
                "ack_p99_ms",
                "ack_p999_ms",
                "delivery_p50_ms",
                "delivery_p99_ms",
                "delivery_p999_ms",
                "deliveries_expected",
                "deliveries_seen",
                "deliveries_lost",
                "deliveries_doubled",
                "errors",
                "errors_by_code"));
    processes.forEach(p -> cells.add("cpu_ms_per_msg_" + p));
    cells.add("cpu_ms_per_msg_total");
    cells.add("cpu_percent_total");
    for (int i = 1; i <= nodes; i++) {
      cells.addAll(List.of("gc_pauses_node_" + i, "gc_pause_ms_node_" + i, "gc_max_ms_node_" + i));
    }
    cells.add("schedule_lag_max_ms");
    cells.add("cpu_pressure_percent");
    return String.join(",", cells);
  }

  String csv() {
    List<String> cells =
        new ArrayList<>(
            List.of(
                Integer.toString(members),
                Integer.toString(rate),
                Integer.toString(clients),
                Long.toString(sent),
                Long.toString(acked),
                Step.number(ackP50),
                Step.number(ackP99),
                Step.number(ackP999),
                Step.number(deliveryP50),
                Step.number(deliveryP99),
                Step.number(deliveryP999),
                Long.toString(deliveriesExpected),
                Long.toString(deliveriesSeen),
                Long.toString(deliveriesLost),
                Long.toString(deliveriesDoubled),
                Long.toString(errorCount()),
                errorsByCode(";")));
    cpuSeconds.keySet().forEach(p -> cells.add(format("%.3f", cpuMillisPerMessage(p))));
    cells.add(format("%.3f", totalCpuMillisPerMessage()));
    cells.add(format("%.1f", totalCpuPercent()));
    nodeGc.forEach(
        gc ->
            cells.addAll(
                List.of(
                    Integer.toString(gc.count()),
                    Step.number(gc.totalMillis()),
                    Step.number(gc.maxMillis()))));
    cells.add(Step.number(scheduleLagMaxMillis));
    cells.add(Step.number(cpuPressurePercent));
    return String.join(",", cells);
  }

  /** Appends this step's CSV row, writing the header first into a new file. */
  void appendTo(Path csv) throws IOException {
    if (!Files.exists(csv)) {
      Files.writeString(csv, csvHeader(List.copyOf(cpuSeconds.keySet()), nodeGc.size()) + "\n");
    }
    Files.writeString(csv, csv() + "\n", StandardOpenOption.APPEND);
  }

  private String errorsByCode(String separator) {
    return errors.entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(separator));
  }

  private static String format(String pattern, Object... values) {
    return String.format(Locale.ROOT, pattern, values);
  }
}
