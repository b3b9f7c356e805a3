package io.parley.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.parley.Json;
import io.parley.testing.contract.ContractViolation;
import io.parley.testing.contract.FrameContract;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real WebSocket client (the JDK's) that records every frame the server sends, and checks each
 * against docs/api/asyncapi.yaml as it arrives ({@link FrameContract}): a frame that breaks it
 * fails the test at its next read of a frame, or at {@link #close}/{@link #abort}, so every test
 * that talks to the server checks the contract too.
 */
public final class WsClient implements AutoCloseable {

  public static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
  private final Set<String> typesSeen = ConcurrentHashMap.newKeySet();
  private volatile Instant closedAt;
  private volatile Instant reconnectAt;
  private volatile boolean paused;
  private final WebSocket socket;

  private WsClient(int port, String token, String device) {
    String query = "access_token=" + token + (device == null ? "" : "&device=" + device);
    socket =
        HTTP.newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws?" + query), new Listener())
            .orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS)
            .join();
  }

  /** Connects and consumes the {@code welcome} frame. */
  public static WsClient connect(int port, String token, String device) {
    WsClient client = new WsClient(port, token, device);
    assertEquals("welcome", client.next().path("type").asText());
    return client;
  }

  /** The HTTP status of a refused upgrade. */
  public static int refusedStatus(int port, String query) {
    try {
      HTTP.newWebSocketBuilder()
          .buildAsync(
              URI.create("ws://127.0.0.1:" + port + "/ws?" + query), new WebSocket.Listener() {})
          .orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS)
          .join()
          .abort();
      throw new AssertionError("the upgrade was accepted: " + query);
    } catch (CompletionException e) {
      return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }
  }

  public void send(String json) {
    socket.sendText(json, true).orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS).join();
  }

  public void send(Object frame) {
    send(Json.write(frame));
  }

  /** Sends one binary message in one frame (the protocol has only text frames). */
  public void sendBinary(byte[] data) {
    sendBinaryFragments(List.of(data));
  }

  /**
   * Sends one binary message split over several WebSocket frames (the first, then continuations),
   * so that the server gets it in pieces rather than as one frame.
   */
  public void sendBinaryFragments(List<byte[]> fragments) {
    for (int i = 0; i < fragments.size(); i++) {
      socket
          .sendBinary(ByteBuffer.wrap(fragments.get(i)), i == fragments.size() - 1)
          .orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS)
          .join();
    }
  }

  /** The next frame, whatever its type; fails after the deadline. */
  public JsonNode next() {
    try {
      JsonNode frame = frames.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      failOnViolation();
      assertNotNull(frame, "no frame within " + DEADLINE);
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next frame within {@code wait}, or null. */
  public JsonNode poll(Duration wait) {
    try {
      JsonNode frame = frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
      failOnViolation();
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Drops the connection without a close handshake. */
  public void abort() {
    socket.abort();
    closed.complete(-1);
    failOnViolation();
  }

  /**
   * Stops reading from the socket after the frame being read now: the server's frames pile up in
   * TCP buffers and then in its outbound buffer, as with a client that stalls.
   */
  public void pauseReading() {
    paused = true;
  }

  /** Reads again (whatever the server still had in the connection arrives). */
  public void resumeReading() {
    paused = false;
    socket.request(1);
  }

  /** The next frame, which must be of {@code type}. */
  public JsonNode next(String type) {
    JsonNode frame = next();
    assertEquals(type, frame.path("type").asText(), () -> "unexpected frame " + frame);
    return frame;
  }

  /** Frames received and not yet taken (for "nothing else arrived" checks after a round trip). */
  public int pending() {
    return frames.size();
  }

  public CompletableFuture<Integer> closed() {
    return closed;
  }

  /** When a {@code reconnect} frame arrived (null if none), whether or not it was read. */
  public Instant reconnectAt() {
    return reconnectAt;
  }

  /** When the server's close arrived (null while open). */
  public Instant closedAt() {
    return closedAt;
  }

  @Override
  public void close() {
    if (!closed.isDone()) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      closed.completeOnTimeout(-1, DEADLINE.toSeconds(), TimeUnit.SECONDS).join();
    }
    socket.abort();
    failOnViolation();
  }

  /** The {@code type} of every frame received so far, read or not. */
  public Set<String> typesSeen() {
    return Set.copyOf(typesSeen);
  }

  /** Reports each violation once, so that cleanup after a failure does not repeat it. */
  private void failOnViolation() {
    String first = violations.poll();
    if (first != null) {
      violations.clear();
      throw new ContractViolation(first);
    }
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        FrameContract.get().serverViolation(partial.toString()).ifPresent(violations::add);
        try {
          JsonNode frame = Json.mapper().readTree(partial.toString());
          typesSeen.add(frame.path("type").asText());
          if (frame.path("type").asText().equals("reconnect")) {
            reconnectAt = Instant.now();
          }
          frames.add(frame);
        } catch (java.io.IOException e) {
          frames.add(
              Json.mapper()
                  .createObjectNode()
                  .put("type", "unparseable")
                  .put("text", partial.toString()));
        }
        partial.setLength(0);
      }
      if (!paused) {
        webSocket.request(1);
      }
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closedAt = Instant.now();
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.complete(-1);
    }
  }
}
