package io.parley.gateway;

import java.util.Set;

/** A frame a client sends over the WebSocket (protocol.md "Client to server"), once validated. */
public sealed interface ClientFrame {

  /** The wire {@code type}, so that errors can name the frame they answer. */
  String type();

  /** A frame about one conversation: only its members may send it. */
  sealed interface ConversationFrame extends ClientFrame {
    String conversationId();
  }

  record Send(String conversationId, String idempotencyKey, String body)
      implements ConversationFrame {
    public static final String TYPE = "send";

    @Override
    public String type() {
      return TYPE;
    }
  }

  record Sync(String conversationId, long afterSeq, int limit) implements ConversationFrame {
    public static final String TYPE = "sync";
    public static final long DEFAULT_AFTER_SEQ = 0;
    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 500;

    @Override
    public String type() {
      return TYPE;
    }
  }

  record Open(String conversationId) implements ConversationFrame {
    public static final String TYPE = "open";

    @Override
    public String type() {
      return TYPE;
    }
  }

  record Close(String conversationId) implements ConversationFrame {
    public static final String TYPE = "close";

    @Override
    public String type() {
      return TYPE;
    }
  }

  record Typing(String conversationId) implements ConversationFrame {
    public static final String TYPE = "typing";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** Cumulative: {@code kind} applies to every message up to and including {@code seq}. */
  record Receipt(String conversationId, long seq, String kind) implements ConversationFrame {
    public static final String TYPE = "receipt";
    public static final Set<String> KINDS = Set.of("delivered", "read");

    @Override
    public String type() {
      return TYPE;
    }
  }

  record Ping() implements ClientFrame {
    public static final String TYPE = "ping";

    @Override
    public String type() {
      return TYPE;
    }
  }
}
