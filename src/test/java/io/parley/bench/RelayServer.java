package io.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The physical limit to compare Parley with: a bare WebSocket relay on the same stack (Pekko HTTP)
 * that forwards each {@code send} to the connections named in its {@code to} and acks the sender.
 * No auth, no ordering, no durability, no registry: what is left is sockets and JSON.
 */
final class RelayServer extends AllDirectives {

  private final Map<String, BoundedSourceQueue<Message>> connections = new ConcurrentHashMap<>();

  static CompletionStage<ServerBinding> start(ActorSystem<?> system) {
    return Http.get(system).newServerAt("127.0.0.1", 0).bind(new RelayServer().route());
  }

  private Route route() {
    return path("ws", () -> parameter("user", user -> handleWebSocketMessages(connection(user))));
  }

  private Flow<Message, Message, ?> connection(String user) {
    return Flow.fromSinkAndSourceMat(
            Sink.<Message>foreach(message -> relay(user, message)),
            Source.<Message>queue(1024),
            Keep.right())
        .mapMaterializedValue(
            queue -> {
              connections.put(user, queue);
              return queue;
            });
  }

  private void relay(String user, Message message) throws IOException {
    if (!message.isText() || !message.asTextMessage().isStrict()) {
      return;
    }
    JsonNode frame = Json.mapper().readTree(message.asTextMessage().getStrictText());
    String key = frame.path("idempotencyKey").asText();
    TextMessage delivery =
        TextMessage.create(
            Json.write(
                Map.of(
                    "type",
                    "message",
                    "senderId",
                    user,
                    "idempotencyKey",
                    key,
                    "body",
                    frame.path("body").asText())));
    for (JsonNode to : frame.path("to")) {
      BoundedSourceQueue<Message> recipient = connections.get(to.asText());
      if (recipient != null) {
        recipient.offer(delivery);
      }
    }
    connections
        .get(user)
        .offer(TextMessage.create(Json.write(Map.of("type", "ack", "idempotencyKey", key))));
  }
}
