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
import java.util.ArrayList;
import java.util.List;
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
    description = "Idle connections, 1:1 send rates and group fan-out against Parley and a relay.")
public final class LoadGen implements Callable<Integer> {

  @Option(names = "--nodes", defaultValue = "2", description = "Parley node processes")
  int nodes;

  @Option(names = "--idle", defaultValue = "2000", description = "idle connections on one node")
  int idle;

  @Option(names = "--pairs", defaultValue = "50", description = "1:1 conversations driven")
  int pairs;

  @Option(
      names = "--rates",
      defaultValue = "50,100,200,400",
      split = ",",
      description = "total sends per second, one step each")
  List<Integer> rates;

  @Option(names = "--groups", defaultValue = "100", split = ",", description = "group sizes")
  List<Integer> groups;

  @Option(names = "--step", defaultValue = "PT20S", description = "duration of each rate step")
  Duration step;

  @Option(
      names = "--warmup",
      defaultValue = "PT60S",
      description = "unreported 1:1 load first: the nodes' JIT and caches warm up")
  Duration warmup;

  @Option(names = "--sources", defaultValue = "4", description = "loopback source addresses")
  int sources;

  private final JwtIssuer tokens =
      new JwtIssuer(
          new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)), Clock.systemUTC());

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGen()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path projectDir = StackOptions.defaults().projectDir();
    Path logs = Files.createDirectories(projectDir.resolve("target/bench-load"));
    String classpath = NodeProcess.classpath(projectDir);
    // The clients' own actor system: local, no cluster port of its own.
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "loadgen",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try (LocalStack stack = LocalStack.start(StackOptions.defaults())) {
      List<NodeProcess> started = startNodes(stack, classpath, logs);
      ServerBinding relay =
          RelayServer.start(system).toCompletableFuture().get(30, TimeUnit.SECONDS);
      Machine.print();
      Target parley = Target.parley(started);
      Target bare = Target.relay(relay.localAddress().getPort());
      idleConnections(system, started.get(0));
      oneToOne(system, parley, rates.get(0), started, warmup);
      System.out.println();
      System.out.println(Run.header());
      for (int rate : rates) {
        oneToOne(system, parley, rate, started, step).print("1:1 parley", rate, started);
        oneToOne(system, bare, rate, List.of(), step).print("1:1 relay", rate, List.of());
      }
      for (int size : groups) {
        group(system, parley, size, started).print("group " + size + " parley", 10, started);
        group(system, bare, size, List.of()).print("group " + size + " relay", 10, List.of());
      }
      started.forEach(NodeProcess::stop);
    } finally {
      system.terminate();
    }
    return 0;
  }

  private List<NodeProcess> startNodes(LocalStack stack, String classpath, Path logs)
      throws Exception {
    List<NodeProcess> started = new ArrayList<>();
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      NodeProcess node =
          NodeProcess.start(
              stack,
              classpath,
              0,
              seeds,
              Map.of(
                  "CHAT_JWT_SECRET",
                  TestNodes.JWT_SECRET,
                  "PARLEY_SEND_RATE",
                  "100000",
                  "PARLEY_CASSANDRA_CREATE_SCHEMA",
                  Boolean.toString(i == 0)),
              logs.resolve("node-" + i + ".log"));
      node.awaitReady(Duration.ofMinutes(3));
      started.add(node);
      seeds.add(node.address());
    }
    return started;
  }

  // ---- scenarios -------------------------------------------------------------------------

  /** Scenario (a): heap and RSS per idle connection on one node. */
  private void idleConnections(ActorSystem<?> system, NodeProcess node) throws Exception {
    NodeUsage before = NodeUsage.measure(node);
    List<LoadClient> clients = new ArrayList<>();
    for (int i = 0; i < idle; i++) {
      clients.add(
          LoadClient.connect(system, wsUri(node.httpPort(), "idle-" + i), source(i), frame -> {})
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS));
    }
    NodeUsage after = NodeUsage.measure(node);
    System.out.printf(
        "%n| idle connections | heap per connection | RSS per connection |%n|---|---|---|%n"
            + "| %d | %.1f KiB | %.1f KiB |%n",
        idle,
        (after.heapBytes() - before.heapBytes()) / 1024.0 / idle,
        (after.rssBytes() - before.rssBytes()) / 1024.0 / idle);
    clients.forEach(LoadClient::close);
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
    return run.drive(10, step, measured);
  }

  private String source(int index) {
    return "127.0.0." + (1 + index % sources);
  }

  private String wsUri(int port, String user) {
    return "ws://127.0.0.1:"
        + port
        + "/ws?device=d&access_token="
        + tokens.issue(user, Duration.ofHours(2));
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
