package io.parley.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import io.parley.Ids;
import io.parley.auth.AuthResult.Authenticated;
import io.parley.auth.AuthResult.Rejected;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;

/**
 * Checks client tokens (protocol.md "Identity"): an HS256 JWT signed with the server's secret, not
 * expired (no leeway), whose {@code sub} is a valid user id. Any other input, however malformed, is
 * {@link Rejected}; this class never throws on a token. Thread-safe.
 */
public final class JwtAuthenticator {

  private final JWSVerifier verifier;
  private final Clock clock;

  public JwtAuthenticator(JwtSecret secret, Clock clock) {
    this.verifier = macVerifier(secret);
    this.clock = clock;
  }

  public AuthResult authenticate(String token) {
    if (token == null || token.isBlank()) {
      return new Rejected("missing token");
    }
    try {
      // JWTParser rather than SignedJWT.parse so that alg "none" and JWE tokens get an honest
      // reason instead of "malformed".
      if (!(JWTParser.parse(token) instanceof SignedJWT jwt)) {
        return new Rejected("algorithm not HS256");
      }
      return authenticate(jwt);
    } catch (ParseException | JOSEException e) {
      return new Rejected("malformed token");
    }
  }

  private AuthResult authenticate(SignedJWT jwt) throws ParseException, JOSEException {
    // The algorithm is pinned: the header is attacker-controlled, so it only gets to match.
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      return new Rejected("algorithm not HS256");
    }
    if (!jwt.verify(verifier)) {
      return new Rejected("invalid signature");
    }
    return checkClaims(jwt.getJWTClaimsSet());
  }

  private AuthResult checkClaims(JWTClaimsSet claims) {
    Date expiration = claims.getExpirationTime();
    if (expiration == null) {
      return new Rejected("missing exp");
    }
    Instant expiresAt = expiration.toInstant();
    if (!expiresAt.isAfter(clock.instant())) {
      return new Rejected("expired");
    }
    String subject = claims.getSubject();
    if (subject == null) {
      return new Rejected("missing sub");
    }
    if (!Ids.isValid(subject)) {
      return new Rejected("invalid sub");
    }
    return new Authenticated(subject, expiresAt);
  }

  private static JWSVerifier macVerifier(JwtSecret secret) {
    try {
      return new MACVerifier(secret.bytes());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("JWT secret unusable for HS256: " + e.getMessage(), e);
    }
  }
}
