package io.parley.bench;

import io.parley.devstack.NodeProcess;
import io.parley.testing.Api;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A node process's heap after a full GC, its resident memory and its CPU time so far. */
record NodeUsage(double heapBytes, double rssBytes, double cpuSeconds) {

  /** Linux reports CPU in clock ticks of 1/100 s (USER_HZ). */
  private static final double TICKS_PER_SECOND = 100.0;

  static NodeUsage measure(NodeProcess node) throws IOException, InterruptedException {
    Process gc = new ProcessBuilder("jcmd", Long.toString(node.pid()), "GC.run").start();
    gc.waitFor(60, TimeUnit.SECONDS);
    String metrics = Api.text(node.httpPort(), "/metrics");
    double heap =
        metrics
            .lines()
            .filter(line -> line.startsWith("jvm_memory_used_bytes{area=\"heap\""))
            .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
            .sum();
    return new NodeUsage(heap, rss(node.pid()), cpuSeconds(node.pid()));
  }

  static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
  }

  static double rss(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
            .filter(line -> line.startsWith("VmRSS:"))
            .mapToDouble(line -> Double.parseDouble(line.replaceAll("[^0-9]", "")))
            .findFirst()
            .orElse(0)
        * 1024;
  }
}
