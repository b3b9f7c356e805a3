package io.parley.testing;

import com.typesafe.config.ConfigFactory;
import io.parley.gateway.HttpErrors;
import io.parley.testing.contract.RestContract;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Routes bound on a free local port in a plain (non-cluster) actor system, behind the node's error
 * handling: for testing a route class through a real HTTP client without the stack. Every response
 * is checked against docs/api/openapi.yaml.
 */
public final class RouteServer implements AutoCloseable {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final ActorSystem<Void> system;
  private final ServerBinding binding;

  private RouteServer(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  public static RouteServer start(Route first, Route... more) {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "route-server",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.defaultReference()));
    Route all =
        Directives.handleExceptions(
            HttpErrors.exceptions(),
            () ->
                Directives.handleRejections(
                    HttpErrors.rejections(), () -> Directives.concat(first, more)));
    try {
      ServerBinding binding =
          Http.get(system)
              .newServerAt("127.0.0.1", 0)
              .bind(all)
              .toCompletableFuture()
              .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      return new RouteServer(system, binding);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("could not bind the routes", e);
    }
  }

  public HttpResponse<String> get(String path) {
    return send(request(path).GET().build());
  }

  public HttpResponse<String> post(String path, String json) {
    return send(
        request(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path))
        .timeout(DEADLINE);
  }

  private static HttpResponse<String> send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      RestContract.check(response); // the routes under test answer as docs/api/openapi.yaml says
      return response;
    } catch (IOException e) {
      throw new AssertionError("request failed: " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the route server did not stop", e);
    }
  }
}
