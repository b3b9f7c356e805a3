package io.parley.bench;

import io.parley.devstack.NodeProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The idle-connection load processes ({@link IdleHolder} JVMs), each holding at most {@code
 * perHolder} connections (the per-process open-file limit is 20,000 here) from loopback source
 * addresses of its own, so no address runs short of ephemeral ports.
 */
final class IdleFleet implements AutoCloseable {

  /** Connections per source address: well under the ~28,000 ephemeral ports of one address. */
  private static final int PER_SOURCE = 5000;

  private final String classpath;
  private final Path logs;
  private final int perHolder;
  private final List<Process> holders = new ArrayList<>();
  private int held;
  private int failed;
  private int nextSource = 10;

  IdleFleet(String classpath, Path logs, int perHolder) {
    this.classpath = classpath;
    this.logs = logs;
    this.perHolder = perHolder;
  }

  /**
   * Opens {@code count} more connections to {@code node}, in as many holders as needed, and waits
   * until each holder has them up.
   */
  void open(NodeProcess node, int count) throws IOException, InterruptedException {
    for (int remaining = count; remaining > 0; ) {
      int chunk = Math.min(perHolder, remaining);
      start(node.httpPort(), chunk);
      remaining -= chunk;
    }
  }

  private void start(int port, int count) throws IOException, InterruptedException {
    int index = holders.size();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=bin/lib/logback-launcher.xml",
                "-cp",
                classpath,
                IdleHolder.class.getName(),
                "--target",
                port + ":" + count,
                "--prefix",
                "idle" + index));
    for (int s = 0; s < (count + PER_SOURCE - 1) / PER_SOURCE; s++) {
      command.add("--source");
      command.add("127.0.0." + nextSource++);
    }
    Process holder =
        new ProcessBuilder(command)
            .redirectError(logs.resolve("idle-holder-" + index + ".log").toFile())
            .start();
    holders.add(holder);
    String line =
        new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    if (line == null) {
      throw new IllegalStateException("idle holder " + index + " exited; see its log");
    }
    String[] words = line.split(" ");
    held += Integer.parseInt(words[1]);
    failed += Integer.parseInt(words[3]);
  }

  int held() {
    return held;
  }

  int failed() {
    return failed;
  }

  /** Resident memory of the holders: the load side's cost per connection. */
  double rssBytes() throws IOException {
    double total = 0;
    for (Process holder : holders) {
      total += NodeUsage.rss(holder.pid());
    }
    return total;
  }

  int processes() {
    return holders.size();
  }

  /** Closing a holder's stdin lets its connections go; it then exits. */
  @Override
  public void close() throws IOException, InterruptedException {
    for (Process holder : holders) {
      holder.getOutputStream().close();
    }
    for (Process holder : holders) {
      if (!holder.waitFor(60, TimeUnit.SECONDS)) {
        holder.destroyForcibly();
      }
    }
  }
}
