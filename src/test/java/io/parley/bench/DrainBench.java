package io.parley.bench;

import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import io.parley.devstack.LocalStack;
import io.parley.devstack.NodeProcess;
import io.parley.devstack.StackOptions;
import io.parley.testing.TestNodes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: how long a node takes to drain N idle connections on SIGTERM with the production
 * drain settings, and how its {@code reconnect} frames spread. Run with {@code bin/bench-drain
 * [connections]} (docs/benchmarks.md).
 */
public final class DrainBench {

  public static void main(String[] args) throws Exception {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    Path projectDir = StackOptions.defaults().projectDir();
    Path logs = Files.createDirectories(projectDir.resolve("target/bench-drain"));
    String classpath = NodeProcess.classpath(projectDir);
    JwtIssuer tokens =
        new JwtIssuer(
            new JwtSecret(TestNodes.JWT_SECRET.getBytes(StandardCharsets.UTF_8)),
            Clock.systemUTC());
    try (LocalStack stack = LocalStack.start(StackOptions.defaults())) {
      NodeProcess node =
          NodeProcess.start(
              stack,
              classpath,
              0,
              List.of(),
              Map.of("CHAT_JWT_SECRET", TestNodes.JWT_SECRET, "PARLEY_SEND_RATE", "1000"),
              logs.resolve("node.log"));
      node.awaitReady(Duration.ofMinutes(3));
      HttpClient http = HttpClient.newHttpClient();
      List<Instant> told = new CopyOnWriteArrayList<>();
      List<CompletableFuture<Void>> closed = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        closed.add(done);
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create(
                    "ws://127.0.0.1:"
                        + node.httpPort()
                        + "/ws?device=d&access_token="
                        + tokens.issue("drain-" + i, Duration.ofHours(1))),
                new Recorder(told, done))
            .get(30, TimeUnit.SECONDS);
      }
      System.out.printf("%d connections open; SIGTERM%n", connections);
      Instant signalled = Instant.now();
      node.stop();
      Duration exit = Duration.between(signalled, Instant.now());
      CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new)).get(1, TimeUnit.MINUTES);
      List<Long> offsets = new ArrayList<>();
      told.forEach(at -> offsets.add(Duration.between(signalled, at).toMillis()));
      Collections.sort(offsets);
      System.out.printf(
          "drain of %d connections: reconnect told to %d; first %d ms, median %d ms, last %d ms"
              + " after SIGTERM; process exited after %d ms%n",
          connections,
          offsets.size(),
          offsets.get(0),
          offsets.get(offsets.size() / 2),
          offsets.get(offsets.size() - 1),
          exit.toMillis());
    }
  }

  /** Notes when {@code reconnect} arrives, and when the socket closes. */
  private record Recorder(List<Instant> told, CompletableFuture<Void> closed)
      implements WebSocket.Listener {

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      if (data.toString().contains("\"type\":\"reconnect\"")) {
        told.add(Instant.now());
      }
      socket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
      closed.complete(null);
      return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
      closed.complete(null);
    }
  }
}
