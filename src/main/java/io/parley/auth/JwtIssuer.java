package io.parley.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.parley.Ids;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Signs tokens that {@link JwtAuthenticator} accepts. Production tokens come from the identity
 * provider; this serves tests and the development-only token endpoint. Thread-safe.
 */
public final class JwtIssuer {

  private final JWSSigner signer;
  private final Clock clock;

  public JwtIssuer(JwtSecret secret, Clock clock) {
    this.signer = macSigner(secret);
    this.clock = clock;
  }

  /** An HS256 token for {@code userId} with {@code sub}, {@code iat} and {@code exp}. */
  public String issue(String userId, Duration ttl) {
    if (!Ids.isValid(userId)) {
      throw new IllegalArgumentException("user id must be " + Ids.RULE);
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive: " + ttl);
    }
    Instant now = clock.instant();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(ttl)))
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      // The key length was checked in the constructor; HMAC cannot fail after that.
      throw new IllegalStateException("HS256 signing failed", e);
    }
    return jwt.serialize();
  }

  private static JWSSigner macSigner(JwtSecret secret) {
    try {
      return new MACSigner(secret.bytes());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("JWT secret unusable for HS256: " + e.getMessage(), e);
    }
  }
}
