package io.parley.gateway;

import io.parley.conversation.Conversation;
import io.parley.history.HistoryService;
import io.parley.presence.PresenceHub;
import io.parley.routing.NodeRouter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.japi.function.Function;

/**
 * A {@link Session}'s client frames turned into requests to conversations and history, and their
 * answers into frames; runs on the session's thread only (it is part of the actor's state).
 *
 * <p>Bounded: at most {@code maxInFlight} requests are outstanding; past that the socket's next
 * frame is held back ({@link #readNextOrHold}) until an answer comes.
 */
final class ClientRequests {

  /** An answer to a request, sent to the session by the ask or the history lookup. */
  sealed interface Answer extends Session.Command {}

  /** {@code askedAt}: System.nanoTime() when the frame was read. */
  private record ConversationReplied(
      ClientFrame frame, long askedAt, Conversation.Reply reply, Throwable failure)
      implements Answer {}

  private record HistoryAnswered(
      ClientFrame.Sync sync, HistoryService.Answer answer, Throwable failure) implements Answer {}

  private final ActorContext<Session.Command> context;
  private final String userId;
  private final String deviceId;
  private final Session.Settings settings;
  private final Session.Dependencies node;
  private final ActorRef<NodeRouter.Delivery> inbox;
  private final Consumer<ServerFrame> push;
  private final GatewayMetrics metrics;
  private final Deque<ActorRef<Session.StreamAck>> heldAcks = new ArrayDeque<>();

  /** Conversations this device has open: it sees their presence and typing. */
  private final Set<String> opened = new HashSet<>();

  private int inFlight;

  /** {@code inbox}: where the presence hub pushes to this session; {@code push}: to the client. */
  ClientRequests(
      ActorContext<Session.Command> context,
      String userId,
      String deviceId,
      Session.Settings settings,
      Session.Dependencies node,
      ActorRef<NodeRouter.Delivery> inbox,
      Consumer<ServerFrame> push) {
    this.context = context;
    this.userId = userId;
    this.deviceId = deviceId;
    this.settings = settings;
    this.node = node;
    this.inbox = inbox;
    this.push = push;
    this.metrics = GatewayMetrics.get(context.getSystem());
  }

  /** True when no request is outstanding. */
  boolean idle() {
    return inFlight == 0;
  }

  /** Reads the socket again, unless {@code maxInFlight} requests are outstanding. */
  void readNextOrHold(ActorRef<Session.StreamAck> ackTo) {
    if (inFlight < settings.maxInFlight()) {
      ackTo.tell(Session.StreamAck.INSTANCE);
    } else {
      heldAcks.add(ackTo); // read the socket again once an answer comes back
    }
  }

  /** One handler per kind of {@link ClientFrame} (the interface is sealed: these are all). */
  void onFrame(ClientFrame frame) {
    if (frame instanceof ClientFrame.Ping) {
      push.accept(new ServerFrame.Pong());
    } else if (frame instanceof ClientFrame.Send send) {
      onSend(send);
    } else if (frame instanceof ClientFrame.Sync sync) {
      onSync(sync);
    } else if (frame instanceof ClientFrame.Receipt receipt) {
      onReceipt(receipt);
    } else if (frame instanceof ClientFrame.Open open) {
      onOpen(open);
    } else if (frame instanceof ClientFrame.Close close) {
      onClose(close);
    } else if (frame instanceof ClientFrame.Typing typing) {
      onTyping(typing);
    }
  }

  private void onSend(ClientFrame.Send send) {
    metrics.sends.increment();
    askConversation(
        send,
        replyTo ->
            new Conversation.Send(userId, deviceId, send.idempotencyKey(), send.body(), replyTo));
  }

  private void onSync(ClientFrame.Sync sync) {
    inFlight++;
    context.pipeToSelf(
        node.history().after(userId, sync.conversationId(), sync.afterSeq(), sync.limit()),
        (answer, failure) -> new HistoryAnswered(sync, answer, failure));
  }

  private void onReceipt(ClientFrame.Receipt receipt) {
    Conversation.ReceiptKind kind =
        Conversation.ReceiptKind.valueOf(receipt.kind().toUpperCase(Locale.ROOT));
    askConversation(
        receipt,
        replyTo -> new Conversation.MarkReceipt(userId, deviceId, receipt.seq(), kind, replyTo));
  }

  /** Viewing a conversation's presence and typing: for members, up to {@code maxOpen} at once. */
  private void onOpen(ClientFrame.Open open) {
    if (opened.size() >= settings.maxOpen() && !opened.contains(open.conversationId())) {
      push.accept(
          ServerFrames.error(
              ErrorCode.BAD_REQUEST,
              "at most " + settings.maxOpen() + " conversations may be open; close one first",
              open.type()));
    } else {
      askMembership(open); // onMember views it
    }
  }

  private void onClose(ClientFrame.Close close) {
    if (opened.remove(close.conversationId())) {
      presence(new PresenceHub.Unview(inbox, close.conversationId()));
    } else {
      // Only members may close; a member's close of a conversation not open changes nothing.
      askMembership(close);
    }
  }

  private void onTyping(ClientFrame.Typing typing) {
    if (opened.contains(typing.conversationId())) {
      presence(new PresenceHub.Typing(typing.conversationId(), userId));
    } else {
      askMembership(typing); // onMember announces it
    }
  }

  private void askMembership(ClientFrame.ConversationFrame frame) {
    askConversation(frame, replyTo -> new Conversation.GetInfo(userId, replyTo));
  }

  private void askConversation(
      ClientFrame.ConversationFrame frame,
      Function<ActorRef<Conversation.Reply>, Conversation.Command> command) {
    inFlight++;
    long askedAt = System.nanoTime();
    EntityRef<Conversation.Command> conversation =
        ClusterSharding.get(context.getSystem())
            .entityRefFor(Conversation.ENTITY_KEY, frame.conversationId());
    context.ask(
        Conversation.Reply.class,
        conversation,
        settings.askTimeout(),
        command,
        (reply, failure) -> new ConversationReplied(frame, askedAt, reply, failure));
  }

  /** An answer arrived: one outstanding request less, and its frame to the client. */
  void onAnswer(Answer answer) {
    inFlight--;
    ActorRef<Session.StreamAck> held = heldAcks.poll();
    if (held != null) {
      held.tell(Session.StreamAck.INSTANCE); // the socket was paused: read it again
    }
    if (answer instanceof ConversationReplied replied) {
      onConversationReplied(replied);
    } else if (answer instanceof HistoryAnswered answered) {
      onHistoryAnswered(answered);
    }
  }

  private void onHistoryAnswered(HistoryAnswered answered) {
    ClientFrame.Sync sync = answered.sync();
    if (answered.failure() != null) {
      push.accept(
          ServerFrames.error(
              ErrorCode.UNAVAILABLE, "history is unavailable, try again", sync.type()));
    } else if (answered.answer() instanceof HistoryService.Answer.Refused refused) {
      push.accept(ServerFrames.rejected(refused.rejected(), sync.type()));
    } else if (answered.answer() instanceof HistoryService.Answer.Found found) {
      push.accept(ServerFrames.history(sync.conversationId(), found));
    }
  }

  private void onConversationReplied(ConversationReplied replied) {
    String ref = ServerFrames.refOf(replied.frame());
    Conversation.Reply reply = replied.reply();
    if (replied.failure() != null) {
      push.accept(
          ServerFrames.error(
              ErrorCode.UNAVAILABLE, "the conversation did not answer in time", ref));
    } else if (reply instanceof Conversation.Rejected rejected) {
      push.accept(ServerFrames.rejected(rejected, ref));
    } else if (reply instanceof Conversation.Acked acked) {
      metrics.acks.increment();
      metrics.ackLatency.record(System.nanoTime() - replied.askedAt(), TimeUnit.NANOSECONDS);
      push.accept(
          new ServerFrame.Ack(
              acked.conversationId(), acked.idempotencyKey(), acked.seq(), acked.sentAt()));
    } else if (reply instanceof Conversation.Info info) {
      onMember(replied.frame(), info);
    }
    // An accepted receipt has no answer: the other devices get it.
  }

  /** The membership check of an {@code open} or {@code typing} passed. */
  private void onMember(ClientFrame frame, Conversation.Info info) {
    if (frame instanceof ClientFrame.Open open && opened.add(open.conversationId())) {
      presence(new PresenceHub.View(inbox, userId, open.conversationId(), info.members()));
    } else if (frame instanceof ClientFrame.Typing typing) {
      presence(new PresenceHub.Typing(typing.conversationId(), userId));
    }
  }

  private void presence(PresenceHub.Local command) {
    node.presence().tell(command);
  }
}
