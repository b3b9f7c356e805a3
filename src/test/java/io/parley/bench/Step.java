package io.parley.bench;

import java.util.List;
import java.util.Locale;

/**
 * One measured step, as printed in the tables and written to the CSV the plot is drawn from.
 * Latencies in ms; NaN where the target has no such figure (the relay has no server histogram, node
 * CPU or persister lag).
 */
record Step(
    String scenario,
    String target,
    int rate,
    long sent,
    long acked,
    long errors,
    double ackP50,
    double ackP99,
    double ackP999,
    double deliveryP50,
    double deliveryP99,
    double deliveryP999,
    double firstAckP50,
    double firstAckMax,
    double serverAckP99,
    double gcPauses,
    double gcPauseMillis,
    double nodeCpuPercent,
    double cpuPressurePercent,
    double persisterLag) {

  static final String CSV_HEADER =
      "scenario,target,rate,sent,acked,errors,ack_p50_ms,ack_p99_ms,ack_p999_ms,"
          + "delivery_p50_ms,delivery_p99_ms,delivery_p999_ms,"
          + "first_ack_p50_ms,first_ack_max_ms,server_ack_p99_ms,"
          + "gc_pauses,gc_pause_ms,node_cpu_percent,cpu_pressure_percent,persister_lag";

  String csv() {
    return String.join(
        ",",
        List.of(
            scenario,
            target,
            Integer.toString(rate),
            Long.toString(sent),
            Long.toString(acked),
            Long.toString(errors),
            number(ackP50),
            number(ackP99),
            number(ackP999),
            number(deliveryP50),
            number(deliveryP99),
            number(deliveryP999),
            number(firstAckP50),
            number(firstAckMax),
            number(serverAckP99),
            number(gcPauses),
            number(gcPauseMillis),
            number(nodeCpuPercent),
            number(cpuPressurePercent),
            number(persisterLag)));
  }

  static Step parse(String line) {
    String[] f = line.split(",");
    return new Step(
        f[0],
        f[1],
        Integer.parseInt(f[2]),
        Long.parseLong(f[3]),
        Long.parseLong(f[4]),
        Long.parseLong(f[5]),
        Double.parseDouble(f[6]),
        Double.parseDouble(f[7]),
        Double.parseDouble(f[8]),
        Double.parseDouble(f[9]),
        Double.parseDouble(f[10]),
        Double.parseDouble(f[11]),
        Double.parseDouble(f[12]),
        Double.parseDouble(f[13]),
        Double.parseDouble(f[14]),
        Double.parseDouble(f[15]),
        Double.parseDouble(f[16]),
        Double.parseDouble(f[17]),
        Double.parseDouble(f[18]),
        Double.parseDouble(f[19]));
  }

  /** The markdown row of docs/benchmarks.md's tables. */
  String row() {
    return String.format(
        Locale.ROOT,
        "| %s %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |",
        scenario,
        target,
        rate,
        sent,
        acked,
        errors,
        triple(ackP50, ackP99, ackP999),
        triple(deliveryP50, deliveryP99, deliveryP999),
        Double.isNaN(firstAckP50) ? "-" : number(firstAckP50) + " / " + number(firstAckMax),
        Double.isNaN(serverAckP99) ? "-" : "≤ " + number(serverAckP99),
        Double.isNaN(gcPauses)
            ? "-"
            : String.format(Locale.ROOT, "%.0f / %.0f ms", gcPauses, gcPauseMillis),
        Double.isNaN(nodeCpuPercent) ? "-" : String.format(Locale.ROOT, "%.0f%%", nodeCpuPercent),
        Double.isNaN(cpuPressurePercent)
            ? "-"
            : String.format(Locale.ROOT, "%.0f%%", cpuPressurePercent),
        Double.isNaN(persisterLag) ? "-" : String.format(Locale.ROOT, "%.0f", persisterLag));
  }

  static String header() {
    return "| scenario | sends/s | sent | acked | errors | ack p50 / p99 / p99.9 ms"
        + " | delivery p50 / p99 / p99.9 ms | first send per conversation: ack p50 / max ms"
        + " | server ack p99 ms | node GC pauses / total"
        + " | node CPU (sum) | CPU pressure | persister lag |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|";
  }

  /** "p50 / p99 / p99.9" for a table cell; "-" without figures. */
  static String triple(double p50, double p99, double p999) {
    return Double.isNaN(p50) ? "-" : number(p50) + " / " + number(p99) + " / " + number(p999);
  }

  static String number(double value) {
    return Double.isNaN(value) ? "NaN" : String.format(Locale.ROOT, "%.1f", value);
  }
}
