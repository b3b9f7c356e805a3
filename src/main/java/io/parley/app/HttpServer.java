package io.parley.app;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/** Binds the node's one HTTP port and unbinds it first thing in Coordinated Shutdown. */
final class HttpServer {
  private HttpServer() {}

  static CompletionStage<ServerBinding> start(ActorSystem<?> system, Route routes) {
    Config config = system.settings().config().getConfig("parley.http");
    Duration unbindDeadline = config.getDuration("unbind-deadline");
    return Http.get(system)
        .newServerAt(config.getString("host"), config.getInt("port"))
        .bind(routes)
        .thenApply(binding -> binding.addToCoordinatedShutdown(unbindDeadline, system));
  }
}
