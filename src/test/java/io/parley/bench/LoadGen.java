package io.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.devstack.LocalStack;
import io.parley.devstack.NodeProcess;
import io.parley.devstack.StackOptions;
import io.parley.testing.Api;
import io.parley.testing.TestNodes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load generator ({@code bin/bench-load}): starts a real stack, Parley node processes and a
 * bare WebSocket relay on this box, then drives the scenarios of docs/benchmarks.md and prints
 * their tables. Not a test: it measures, it does not judge.
 */
@Command(
    name = "bench-load",
    mixinStandardHelpOptions = true,
    description =
        "Idle connections, 1:1 send rates and group fan-out against Parley and a relay; the send"
            + " path's cost (issue #13) on a rate ladder.")
public final class LoadGen implements Callable<Integer> {

  @Option(names = "--nodes", defaultValue = "2", description = "Parley nodes the sends go to")
  int nodes;

  @Option(
      names = "--idle",
      defaultValue = "2000",
      split = ",",
      description =
          "idle connection totals, one step each, held by idle-holder processes: node 1 first,"
              + " up to --idle-per-node, then more nodes (started for it); 0: skip")
  List<Integer> idle;

  @Option(
      names = "--idle-per-node",
      defaultValue = "19000",
      description = "idle connections per node (a process may open 20,000 files here)")
  int idlePerNode;

  @Option(
      names = "--idle-per-holder",
      defaultValue = "18000",
      description = "idle connections per load process (the same 20,000-file limit)")
  int idlePerHolder;

  @Option(
      names = "--node-heap",
      defaultValue = "512m",
      description = "-Xmx of each node (NodeProcess's own default is 512m; 19,000 idle need ~1.5g)")
  String nodeHeap;

  @Option(names = "--pairs", defaultValue = "50", description = "1:1 conversations driven")
  int pairs;

  @Option(
      names = "--rates",
      defaultValue = "5,10,25,50,100,200,400,800",
      split = ",",
      description = "total 1:1 sends per second, one step each; 0: skip")
  List<Integer> rates;

  @Option(
      names = "--groups",
      defaultValue = "100,1000",
      split = ",",
      description = "group sizes, one sender at --group-rate each; 0: skip")
  List<Integer> groups;

  @Option(names = "--group-rate", defaultValue = "10", description = "group sends per second")
  int groupRate;

  @Option(names = "--step", defaultValue = "PT20S", description = "duration of each rate step")
  Duration step;

  @Option(
      names = "--warmup",
      defaultValue = "PT60S",
      description = "unreported 1:1 load first: the nodes' JIT and caches warm up")
  Duration warmup;

  @Option(
      names = "--warmup-rate",
      defaultValue = "100",
      description = "sends per second of the warm-up")
  int warmupRate;

  @Option(names = "--sources", defaultValue = "4", description = "loopback source addresses")
  int sources;

  @Option(
      names = "--plot",
      defaultValue = "target/bench-load/latency.png",
      description = "where the PNG of 1:1 ack latency against rate goes")
  Path plot;

  @Option(
      names = "--no-persister",
      description = "nodes without the Kafka -> Cassandra persister: its share of the latency")
  boolean noPersister;

  @Option(
      names = "--idle-only",
      description = "only the idle connections: no warm-up, rates, groups or send path")
  boolean idleOnly;

  @Option(
      names = "--clients",
      defaultValue = "1000",
      description = "send path (issue #13): WebSocket clients, every one sending in turn; 0: skip")
  int clients;

  @Option(
      names = "--members",
      defaultValue = "2,5",
      split = ",",
      description = "send path: members per conversation, one ladder each (2: 1:1 pairs)")
  List<Integer> members;

  @Option(
      names = "--ladder",
      defaultValue = "250,500,1000,2000",
      split = ",",
      description = "send path: total sends per second over all clients, one step each; 0: skip")
  List<Integer> ladder;

  @Option(
      names = "--ladder-warmup",
      defaultValue = "PT5S",
      description = "send path: unmeasured sends at the step's rate before each measured window")
  Duration ladderWarmup;

  @Option(
      names = "--ladder-window",
      defaultValue = "PT20S",
      description = "send path: the measured window of each step")
  Duration ladderWindow;

  @Option(
      names = "--jit-warmup",
      defaultValue = "PT15M",
      description =
          "send path: at most this long, unmeasured sends before the first ladder until the nodes'"
              + " JIT compilers are quiet, so the steps measure warm JVMs (PT0S: none)")
  Duration jitWarmup;

  @Option(
      names = "--jit-warmup-rate",
      defaultValue = "300",
      description = "send path: sends per second of the JIT warm-up")
  int jitWarmupRate;

  @Option(
      names = "--drain",
      defaultValue = "PT10S",
      description = "send path: how long after a window its acks and deliveries are waited for")
  Duration drain;

  @Option(names = "--body-chars", defaultValue = "100", description = "send path: body length")
  int bodyChars;

  @Option(
      names = "--jfr",
      description =
          "send path: a JFR recording (settings=profile) of node 1 during each ladder's highest"
              + " step, written to target/bench-load/")
  boolean jfr;

  @Option(
      names = "--node-java-options",
      defaultValue = "",
      description =
          "more JVM options for every node (a profiler agent, -XX flags), after the bench's own")
  String nodeJavaOptions;

  @Option(
      names = "--short",
      description =
          "a short run (~7 min): rates 10,50,200, groups of 100, 1,000 idle, 10 s steps,"
              + " 30 s warm-up; send path: 200 clients, ladder 50,200, 3 s warm-up, 10 s"
              + " windows, 20 s JIT warm-up at 100/s; overrides those options")
  boolean shortRun;

  /** The node GC logs, by node, for the send path's pauses per window. */
  private final List<GcLog> gcLogs = new ArrayList<>();

  /** Whether the nodes run with a higher send rate limit than a user's (the 1:1 sweep needs it). */
  private boolean sendRateRaised;

  private final JwtIssuer tokens =
      new JwtIssuer(
          new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)), Clock.systemUTC());

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGen()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    settleOptions();
    Path projectDir = StackOptions.defaults().projectDir();
    Path logs = Files.createDirectories(projectDir.resolve("target/bench-load"));
    String classpath = NodeProcess.classpath(projectDir);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Results results = new Results(logs.resolve("results-" + stamp + ".csv"));
    // The clients' own actor system: local, no cluster port of its own.
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "loadgen",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try (LocalStack stack = LocalStack.start(StackOptions.defaults())) {
      int idleNodes =
          (idle.stream().max(Integer::compare).orElse(0) + idlePerNode - 1) / idlePerNode;
      List<NodeProcess> started =
          startNodes(stack, classpath, logs, Math.max(nodes, idleNodes), stamp);
      ServerBinding relay =
          RelayServer.start(system).toCompletableFuture().get(30, TimeUnit.SECONDS);
      Machine.print();
      if (idleNodes > 0) {
        idleConnections(started, logs);
      }
      List<NodeProcess> measured = started.subList(0, nodes);
      sendScenarios(system, measured, relay.localAddress().getPort(), results);
      if (!rates.isEmpty()) {
        results.printCrossings(10, 50);
        results.plot(projectDir.resolve(plot));
      }
      sendPath(system, stack, measured, logs, stamp);
      started.forEach(NodeProcess::stop);
    } finally {
      system.terminate();
    }
    return 0;
  }

  /** --short and --idle-only override other options; "0" empties a list option. */
  private void settleOptions() {
    if (shortRun) {
      rates = List.of(10, 50, 200);
      groups = List.of(100);
      idle = List.of(1000);
      step = Duration.ofSeconds(10);
      warmup = Duration.ofSeconds(30);
      clients = 200;
      ladder = List.of(50, 200);
      ladderWarmup = Duration.ofSeconds(3);
      ladderWindow = Duration.ofSeconds(10);
      jitWarmup = Duration.ofSeconds(20);
      jitWarmupRate = 100;
    }
    if (idleOnly) {
      rates = List.of();
      groups = List.of();
      ladder = List.of();
    }
    ladder = clients > 0 ? ladder.stream().filter(r -> r > 0).toList() : List.of();
    members = members.stream().filter(m -> m >= 2).toList();
    rates = rates.stream().filter(r -> r > 0).toList();
    groups = groups.stream().filter(g -> g > 0).toList();
    idle = idle.stream().filter(i -> i > 0).toList();
  }

  /** Scenarios (b) to (d): the warm-up, the 1:1 rate sweep and the groups, Parley then relay. */
  private void sendScenarios(
      ActorSystem<?> system, List<NodeProcess> measured, int relayPort, Results results)
      throws Exception {
    Target parley = Target.parley(measured);
    Target bare = Target.relay(relayPort);
    if (!rates.isEmpty() || !groups.isEmpty()) {
      oneToOne(system, parley, warmupRate, measured, warmup);
      System.out.println();
      System.out.println(Step.header());
    }
    // Parley and the relay step by step, side by side, so both see the same box.
    for (int rate : rates) {
      results.add(oneToOne(system, parley, rate, measured, step).result("1:1", rate, measured));
      results.add(oneToOne(system, bare, rate, List.of(), step).result("1:1", rate, List.of()));
    }
    for (int size : groups) {
      String scenario = "group " + size;
      results.add(group(system, parley, size, measured).result(scenario, groupRate, measured));
      results.add(group(system, bare, size, List.of()).result(scenario, groupRate, List.of()));
    }
  }

  private List<NodeProcess> startNodes(
      LocalStack stack, String classpath, Path logs, int count, String stamp) throws Exception {
    List<NodeProcess> started = new ArrayList<>();
    List<String> seeds = new ArrayList<>();
    sendRateRaised = sweepSendRate() > defaultSendRate();
    if (sendRateRaised) {
      System.out.printf(
          Locale.ROOT,
          "nodes' sends-per-second raised from %d to 100000: the 1:1 sweep sends %.1f a second"
              + " per sender%n",
          defaultSendRate(),
          sweepSendRate());
    }
    for (int i = 0; i < count; i++) {
      Path gcLog = logs.resolve("node-" + i + "-gc-" + stamp + ".log");
      Map<String, String> env = new HashMap<>();
      env.put("PARLEY_PERSISTER_ENABLED", Boolean.toString(!noPersister));
      env.put("CHAT_JWT_SECRET", TestNodes.JWT_SECRET);
      // Every node, as bin/parley-local and the tests do: the journal and snapshot keyspaces are
      // created lazily by whichever node first needs them (all IF NOT EXISTS), and a node that
      // may not create them fails its entities' recovery until another has (the send path, run
      // alone on a fresh stack, started entities on node 2 first).
      env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", "true");
      // NodeProcess fixes -Xmx512m; _JAVA_OPTIONS comes after the command line, so it wins.
      // The GC log shows how much of a step's p99 is GC pauses.
      env.put(
          "_JAVA_OPTIONS",
          "-Xmx" + nodeHeap + " -Xlog:gc:file=" + gcLog + ":uptime " + nodeJavaOptions);
      if (sendRateRaised) {
        env.put("PARLEY_SEND_RATE", "100000");
      }
      NodeProcess node =
          NodeProcess.start(stack, classpath, 0, seeds, env, logs.resolve("node-" + i + ".log"));
      gcLogs.add(new GcLog(gcLog));
      node.awaitReady(Duration.ofMinutes(3));
      started.add(node);
      seeds.add(node.address());
    }
    return started;
  }

  /** The rate limit a user runs with: the nodes' config as shipped (and its env override). */
  private static long defaultSendRate() {
    return ConfigFactory.load().getLong("parley.gateway.rate-limit.sends-per-second");
  }

  /**
   * The highest sends a second one sender makes in the 1:1 sweep, its warm-up or a group step (the
   * send path's own rate is checked against the default, not raised). Over the default, the nodes
   * get a higher limit, as these scenarios always had.
   */
  private double sweepSendRate() {
    double perSender = 0;
    if (!rates.isEmpty() || !groups.isEmpty()) {
      perSender = (double) warmupRate / pairs;
    }
    for (int rate : rates) {
      perSender = Math.max(perSender, (double) rate / pairs);
    }
    return groups.isEmpty() ? perSender : Math.max(perSender, groupRate);
  }

  // ---- scenarios -------------------------------------------------------------------------

  /**
   * Scenario (a): idle connections from idle-holder processes, step by step toward each total (node
   * 1 is filled to --idle-per-node first, then the next node); per node, heap after a full GC and
   * RSS against the node's own reading before any connection.
   */
  private void idleConnections(List<NodeProcess> started, Path logs) throws Exception {
    List<NodeUsage> before = new ArrayList<>();
    for (NodeProcess node : started) {
      before.add(NodeUsage.measure(node));
    }
    System.out.printf(
        "%n| idle connections (target) | held | failed | nodes | load processes | connect time"
            + " | heap per connection | node RSS per connection | load RSS per connection"
            + " | heap / RSS of the fullest node |%n|---|---|---|---|---|---|---|---|---|---|%n");
    int[] perNode = new int[started.size()];
    // The holders run on this JVM's classpath: they are test classes too.
    String ownClasspath = System.getProperty("java.class.path");
    try (IdleFleet fleet = new IdleFleet(ownClasspath, logs, idlePerHolder)) {
      for (int total : idle) {
        long startedAt = System.nanoTime();
        for (int i = 0; i < started.size() && Arrays.stream(perNode).sum() < total; i++) {
          int add = Math.min(idlePerNode - perNode[i], total - Arrays.stream(perNode).sum());
          if (add > 0) {
            fleet.open(started.get(i), add);
            perNode[i] += add;
          }
        }
        double connectSeconds = (System.nanoTime() - startedAt) / 1e9;
        printIdleStep(started, before, perNode, fleet, total, connectSeconds);
      }
    }
  }

  private static void printIdleStep(
      List<NodeProcess> started,
      List<NodeUsage> before,
      int[] perNode,
      IdleFleet fleet,
      int total,
      double connectSeconds)
      throws Exception {
    double heap = 0;
    double rss = 0;
    int used = 0;
    NodeUsage fullest = null;
    for (int i = 0; i < started.size() && perNode[i] > 0; i++) {
      NodeUsage now = NodeUsage.measure(started.get(i));
      heap += now.heapBytes() - before.get(i).heapBytes();
      rss += now.rssBytes() - before.get(i).rssBytes();
      used++;
      if (i == 0) {
        fullest = now;
      }
    }
    int held = fleet.held();
    System.out.printf(
        Locale.ROOT,
        "| %d | %d | %d | %d | %d | %.0f s | %.1f KiB | %.1f KiB | %.1f KiB | %.0f MiB / %.0f MiB"
            + " |%n",
        total,
        held,
        fleet.failed(),
        used,
        fleet.processes(),
        connectSeconds,
        heap / 1024 / held,
        rss / 1024 / held,
        fleet.rssBytes() / 1024 / held,
        fullest.heapBytes() / 1024 / 1024,
        fullest.rssBytes() / 1024 / 1024);
  }

  /**
   * Scenario (e), the send path's cost (issue #13): per conversation size, one set of {@code
   * clients} driven up the ladder, each step printed as a row and appended to the run's send-path
   * CSV; optionally node 1's JFR during the highest step.
   */
  private void sendPath(
      ActorSystem<?> system, LocalStack stack, List<NodeProcess> measured, Path logs, String stamp)
      throws Exception {
    if (ladder.isEmpty() || members.isEmpty()) {
      return;
    }
    ProcessCpu cpu = new ProcessCpu(measured, stack);
    Path csv = logs.resolve("send-path-" + stamp + ".csv");
    int highest = ladder.indexOf(ladder.stream().max(Integer::compare).orElseThrow());
    System.out.printf(
        Locale.ROOT,
        "%nsend path: %d clients, members alternating over %d nodes, every client sending in turn,"
            + " open loop, %d-char bodies; %.1f s warm-up, %.1f s measured, up to %.1f s drain"
            + " per step%n",
        clients,
        measured.size(),
        bodyChars,
        ladderWarmup.toMillis() / 1000.0,
        ladderWindow.toMillis() / 1000.0,
        drain.toMillis() / 1000.0);
    for (int size : members) {
      try (SendPath path =
          SendPath.open(
              system, Target.parley(measured), tokens, this::source, clients, size, bodyChars)) {
        checkSendRate(path.clients());
        if (!jitWarmup.isZero() && size == members.get(0)) {
          warmUntilJitQuiet(path, measured);
        }
        System.out.println(SendPathStep.header(cpu.names(), measured.size()));
        for (int i = 0; i < ladder.size(); i++) {
          Path jfrFile =
              logs.resolve(
                  "send-path-node-1-m" + size + "-" + ladder.get(i) + "-" + stamp + ".jfr");
          SendPathStep step =
              path.step(
                  ladder.get(i),
                  ladderWarmup,
                  ladderWindow,
                  drain,
                  cpu,
                  gcLogs.subList(0, measured.size()),
                  jfr && i == highest
                      ? new SendPath.NodeProfile(measured.get(0).pid(), jfrFile.toAbsolutePath())
                      : null);
          System.out.println(step.row());
          step.appendTo(csv);
        }
      }
    }
    System.out.println("send path figures: " + csv);
  }

  /** A slice of the JIT warm-up; quiet: every node's compilers busy less than 5% of a slice. */
  private static final Duration JIT_SLICE = Duration.ofSeconds(30);

  private static final double JIT_QUIET_SHARE = 0.05;

  /**
   * Sends at {@code --jit-warmup-rate} in slices until no node's compilers were busy more than
   * {@link #JIT_QUIET_SHARE} of the last slice, or {@code --jit-warmup} has passed.
   */
  private void warmUntilJitQuiet(SendPath path, List<NodeProcess> measured)
      throws InterruptedException {
    System.out.printf(
        Locale.ROOT,
        "JIT warm-up: %d sends/s, not measured, until the compilers are quiet (at most %d s)%n",
        jitWarmupRate,
        jitWarmup.toSeconds());
    long started = System.nanoTime();
    long[] before = JitClock.busyMillis(measured);
    Duration left = jitWarmup;
    boolean quiet = false;
    while (!quiet && !left.isZero()) {
      Duration slice = left.compareTo(JIT_SLICE) < 0 ? left : JIT_SLICE;
      path.warmUp(jitWarmupRate, slice);
      left = left.minus(slice);
      long[] after = JitClock.busyMillis(measured);
      quiet = true;
      for (int i = 0; i < after.length; i++) {
        quiet &= after[i] - before[i] < JIT_QUIET_SHARE * slice.toMillis();
      }
      before = after;
    }
    System.out.printf(
        Locale.ROOT,
        "JIT warm-up: %s after %d s; compilers busy %s ms in total per node%n",
        quiet ? "quiet" : "not quiet yet",
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started),
        Arrays.toString(before));
  }

  /** Says when the ladder is not what a user's defaults allow, or not run at the defaults. */
  private void checkSendRate(int senders) {
    long limit = defaultSendRate();
    double perClient = (double) ladder.stream().max(Integer::compare).orElseThrow() / senders;
    if (perClient > limit) {
      System.out.printf(
          Locale.ROOT,
          "the defaults refuse the top of this ladder: %.2f sends/s per client, over the"
              + " limit of %d (parley.gateway.rate-limit.sends-per-second): expect rate_limited%n",
          perClient,
          limit);
    }
    if (sendRateRaised) {
      System.out.println(
          "not the defaults: the nodes' send rate limit is raised for the 1:1 sweep of this run");
    }
  }

  /** Scenario (b)/(d): {@code pairs} 1:1 conversations, senders on one node, readers on another. */
  private Run oneToOne(
      ActorSystem<?> system, Target target, int rate, List<NodeProcess> measured, Duration duration)
      throws Exception {
    Run run = new Run(system, target, this::source, tokens);
    for (int i = 0; i < pairs; i++) {
      String alice = "a" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
      String bob = "b" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
      run.conversation(List.of(alice, bob), List.of(alice));
    }
    return run.drive(rate, duration, measured);
  }

  /** Scenario (c): one sender in a group of {@code size}; every member reads on some node. */
  private Run group(ActorSystem<?> system, Target target, int size, List<NodeProcess> measured)
      throws Exception {
    Run run = new Run(system, target, this::source, tokens);
    List<String> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      members.add("g" + i + "-" + UUID.randomUUID().toString().substring(0, 6));
    }
    run.conversation(members, List.of(members.get(0)));
    return run.drive(groupRate, step, measured);
  }

  private String source(int index) {
    return "127.0.0." + (1 + index % sources);
  }

  /** Where clients connect, and how a send names its recipients. */
  record Target(String name, List<Integer> ports, boolean relay) {
    static Target parley(List<NodeProcess> nodes) {
      return new Target("parley", nodes.stream().map(NodeProcess::httpPort).toList(), false);
    }

    static Target relay(int port) {
      return new Target("relay", List.of(port), true);
    }

    /** Creates the conversation (Parley) and returns its id; the relay needs none. */
    String create(List<String> members) {
      if (relay) {
        return "relay-" + UUID.randomUUID();
      }
      return Api.createConversation(
          ports.get(0), members.get(0), members.subList(1, members.size()).toArray(String[]::new));
    }

    String uri(int index, String user, JwtIssuer tokens) {
      int port = ports.get(index % ports.size());
      return relay
          ? "ws://127.0.0.1:" + port + "/ws?user=" + user
          : "ws://127.0.0.1:"
              + port
              + "/ws?device=d&access_token="
              + tokens.issue(user, Duration.ofHours(2));
    }

    Map<String, Object> send(String conversationId, String key, List<String> to) {
      return relay
          ? Map.of("type", "send", "to", to, "idempotencyKey", key, "body", "x".repeat(64))
          : Map.of(
              "type",
              "send",
              "conversationId",
              conversationId,
              "idempotencyKey",
              key,
              "body",
              "x".repeat(64));
    }
  }

  /** An {@code error} frame: counted in the errors column. */
  static boolean isError(JsonNode frame) {
    return frame.path("type").asText().equals("error");
  }
}
