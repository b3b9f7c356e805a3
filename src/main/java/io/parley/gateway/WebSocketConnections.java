package io.parley.gateway;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * Builds the stream of one WebSocket connection around its {@link Session}: inbound frames are read
 * one at a time with backpressure from the session, outbound frames go through the session's
 * bounded {@link Outbound} buffer. When either side ends, both do.
 */
public final class WebSocketConnections {

  /** Settings of the socket stage. */
  public record Limits(int maxFrameChars, int outboundBuffer) {

    /** From {@code parley.gateway}. */
    public static Limits fromConfig(Config gateway) {
      return new Limits(gateway.getInt("max-frame-chars"), gateway.getInt("outbound-buffer"));
    }
  }

  /** How long the node's {@link Sessions} may take to start a session. */
  private static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final ActorRef<Sessions.Command> sessions;
  private final Limits limits;
  private final FrameCodec codec = new FrameCodec();

  public WebSocketConnections(
      ActorSystem<?> system, ActorRef<Sessions.Command> sessions, Limits limits) {
    this.system = system;
    this.sessions = sessions;
    this.limits = limits;
  }

  /** A new session for this device, then the flow that serves its socket. */
  public CompletionStage<Flow<Message, Message, NotUsed>> connect(String userId, String deviceId) {
    return AskPattern.<Sessions.Command, ActorRef<Session.Command>>ask(
            sessions,
            replyTo -> new Sessions.Connect(userId, deviceId, replyTo),
            SPAWN_TIMEOUT,
            system.scheduler())
        .thenApply(session -> Flow.fromSinkAndSourceCoupled(inbound(session), outbound(session)));
  }

  private Sink<Message, NotUsed> inbound(ActorRef<Session.Command> session) {
    return Flow.<Message>create()
        .mapAsync(1, this::receive)
        .to(
            ActorSink.actorRefWithBackpressure(
                session,
                (ackTo, received) -> new Session.Inbound(received, ackTo),
                Session.StreamStarted::new,
                Session.StreamAck.INSTANCE,
                Session.ClientGone.INSTANCE,
                failure -> Session.ClientGone.INSTANCE));
  }

  private Source<Message, NotUsed> outbound(ActorRef<Session.Command> session) {
    int capacity = limits.outboundBuffer();
    return Source.<ServerFrame>queue(capacity + 1)
        .viaMat(KillSwitches.single(), Keep.both())
        .mapMaterializedValue(
            queueAndSwitch -> {
              session.tell(
                  new Session.OutboundReady(
                      new Outbound(queueAndSwitch.first(), queueAndSwitch.second(), capacity)));
              return NotUsed.getInstance();
            })
        .map(frame -> (Message) TextMessage.create(codec.encode(frame)));
  }

  private CompletionStage<Session.Received> receive(Message message) {
    if (!message.isText()) {
      // Not supported, so never kept: only counted, so an oversize one closes like text does.
      int limit = limits.maxFrameChars();
      return message
          .asBinaryMessage()
          .getStreamedData()
          .runFold(0L, (bytes, chunk) -> bytes + chunk.size(), system)
          .thenApply(
              bytes ->
                  bytes > limit
                      ? new Session.Received.Oversized(limit)
                      : new Session.Received.Binary());
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      return CompletableFuture.completedFuture(decode(text.getStrictText()));
    }
    // Read a streamed frame to its end (failing its stream would fail the whole connection),
    // keeping at most the limit in memory.
    return text.getStreamedText()
        .runFold(new BoundedText(limits.maxFrameChars()), BoundedText::append, system)
        .thenApply(
            collected ->
                collected.overflowed()
                    ? new Session.Received.Oversized(limits.maxFrameChars())
                    : decode(collected.text()));
  }

  private Session.Received decode(String text) {
    if (text.length() > limits.maxFrameChars()) {
      return new Session.Received.Oversized(limits.maxFrameChars());
    }
    return new Session.Received.Text(codec.decode(text));
  }

  /** A frame's text up to a limit; past it only the fact that it overflowed is kept. */
  private static final class BoundedText {
    private final StringBuilder text = new StringBuilder();
    private final int limit;
    private boolean overflowed;

    BoundedText(int limit) {
      this.limit = limit;
    }

    BoundedText append(String chunk) {
      if (!overflowed && text.length() + chunk.length() <= limit) {
        text.append(chunk);
      } else {
        overflowed = true;
        text.setLength(0);
      }
      return this;
    }

    boolean overflowed() {
      return overflowed;
    }

    String text() {
      return text.toString();
    }
  }
}
