package io.parley.auth;

import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * {@code bin/parley-token USER [HOURS]}: prints a client token signed with the secret the nodes use
 * ({@code CHAT_JWT_SECRET}). For local runs and operators' smoke tests; production clients get
 * their tokens from the product's own login service.
 */
public final class IssueToken {
  private IssueToken() {}

  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: parley-token USER [HOURS]");
      System.exit(2);
    }
    String secret = System.getenv("CHAT_JWT_SECRET");
    if (secret == null || secret.isBlank()) {
      System.err.println("CHAT_JWT_SECRET is not set");
      System.exit(2);
    }
    Duration ttl = Duration.ofHours(args.length == 2 ? Long.parseLong(args[1]) : 12);
    JwtSecret key =
        JwtSecret.fromConfig(ConfigFactory.parseMap(Map.of("chat.auth.jwt-secret", secret)));
    System.out.println(new JwtIssuer(key, Clock.systemUTC()).issue(args[0], ttl));
  }
}
