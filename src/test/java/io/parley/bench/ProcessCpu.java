package io.parley.bench;

import io.parley.devstack.ChildService;
import io.parley.devstack.LocalStack;
import io.parley.devstack.NodeProcess;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The CPU time (utime + stime from {@code /proc/<pid>/stat}) of every process on the send path, by
 * name: each node, the stack's services (a wrapped native service counts with its descendants) and
 * this load generator. Two snapshots give each process's share of a window.
 */
final class ProcessCpu {

  private final Map<String, Supplier<Set<Long>>> processes = new LinkedHashMap<>();

  ProcessCpu(List<NodeProcess> nodes, LocalStack stack) {
    for (int i = 0; i < nodes.size(); i++) {
      long pid = nodes.get(i).pid();
      processes.put("node-" + (i + 1), () -> Set.of(pid));
    }
    for (ChildService service : stack.services()) {
      processes.put(service.name(), service::processTree);
    }
    long self = ProcessHandle.current().pid();
    processes.put("loadgen", () -> Set.of(self));
  }

  /** The names, in column order: nodes, then the stack's services, then the load generator. */
  List<String> names() {
    return List.copyOf(processes.keySet());
  }

  /** CPU seconds so far per name; a process gone since is left out of its sum. */
  Map<String, Double> snapshot() {
    Map<String, Double> seconds = new LinkedHashMap<>();
    processes.forEach(
        (name, pids) -> {
          double sum = 0;
          for (long pid : pids.get()) {
            try {
              sum += NodeUsage.cpuSeconds(pid);
            } catch (IOException | RuntimeException gone) {
              // exited between listing and reading: it no longer adds to the sum
            }
          }
          seconds.put(name, sum);
        });
    return seconds;
  }

  /** Per name, the CPU seconds spent between two snapshots. */
  static Map<String, Double> since(Map<String, Double> before, Map<String, Double> after) {
    Map<String, Double> spent = new LinkedHashMap<>();
    after.forEach((name, seconds) -> spent.put(name, seconds - before.getOrDefault(name, 0.0)));
    return spent;
  }
}
