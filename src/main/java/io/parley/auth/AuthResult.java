package io.parley.auth;

import java.time.Instant;

/** The outcome of checking a client's token. */
public sealed interface AuthResult {

  /** The token is valid for {@code userId} until {@code expiresAt}. */
  record Authenticated(String userId, Instant expiresAt) implements AuthResult {}

  /** The token is not accepted; {@code reason} is short, fixed text that is safe to log. */
  record Rejected(String reason) implements AuthResult {}
}
