package io.parley.auth;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;

/** The HS256 key clients' tokens are signed with ({@code chat.auth.jwt-secret}). */
public record JwtSecret(byte[] bytes) {

  /** HS256 needs a key at least as long as its 256-bit output. */
  public static final int MIN_BYTES = 32;

  public static JwtSecret fromConfig(Config config) {
    if (!config.hasPath("chat.auth.jwt-secret")) {
      throw new IllegalStateException(
          "chat.auth.jwt-secret is not set: give the node CHAT_JWT_SECRET (at least "
              + MIN_BYTES
              + " bytes)");
    }
    byte[] bytes = config.getString("chat.auth.jwt-secret").getBytes(StandardCharsets.UTF_8);
    if (bytes.length < MIN_BYTES) {
      throw new IllegalStateException(
          "chat.auth.jwt-secret is " + bytes.length + " bytes; HS256 needs at least " + MIN_BYTES);
    }
    return new JwtSecret(bytes);
  }
}
