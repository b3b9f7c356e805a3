package io.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One WebSocket connection of the load generator, from a chosen loopback source address (one
 * address has ~28,000 ephemeral ports; several get past that). Every JSON frame that arrives is
 * handed to {@code onFrame} on a stream thread.
 */
final class LoadClient {

  private static final int OUTBOUND_BUFFER = 1024;

  private final BoundedSourceQueue<Message> outbound;

  private LoadClient(BoundedSourceQueue<Message> outbound) {
    this.outbound = outbound;
  }

  /** Completes once the upgrade is accepted. */
  static CompletionStage<LoadClient> connect(
      ActorSystem<?> system, String uri, String sourceAddress, Consumer<JsonNode> onFrame) {
    Materializer materializer = Materializer.matFromSystem(system);
    ClientConnectionSettings settings =
        ClientConnectionSettings.create(system.classicSystem())
            .withLocalAddress(Optional.of(new InetSocketAddress(sourceAddress, 0)));
    Flow<Message, Message, BoundedSourceQueue<Message>> flow =
        Flow.fromSinkAndSourceMat(
            Sink.<Message>foreach(message -> read(message, onFrame, materializer)),
            Source.<Message>queue(OUTBOUND_BUFFER),
            Keep.right());
    Pair<CompletionStage<WebSocketUpgradeResponse>, BoundedSourceQueue<Message>> connected =
        Http.get(system)
            .singleWebSocketRequest(
                WebSocketRequest.create(uri),
                flow,
                ConnectionContext.noEncryption(),
                Optional.empty(),
                settings,
                system.classicSystem().log(),
                materializer);
    return connected
        .first()
        .thenCompose(
            upgrade ->
                upgrade.isValid()
                    ? CompletableFuture.completedFuture(new LoadClient(connected.second()))
                    : CompletableFuture.failedFuture(
                        new IllegalStateException(
                            "upgrade refused: " + upgrade.response().status())));
  }

  /** Server frames are small and arrive strict; a streamed one is drained and ignored. */
  private static void read(Message message, Consumer<JsonNode> onFrame, Materializer materializer) {
    if (!message.isText()) {
      message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
    } else if (!message.asTextMessage().isStrict()) {
      message.asTextMessage().getStreamedText().runWith(Sink.ignore(), materializer);
    } else {
      try {
        onFrame.accept(Json.mapper().readTree(message.asTextMessage().getStrictText()));
      } catch (IOException unreadable) {
        onFrame.accept(Json.mapper().createObjectNode().put("type", "unreadable"));
      }
    }
  }

  /** False when the connection's buffer is full or closed (the caller counts an error). */
  boolean send(Object frame) {
    return outbound.offer(TextMessage.create(Json.write(frame))).isEnqueued();
  }

  void close() {
    outbound.complete();
  }
}
