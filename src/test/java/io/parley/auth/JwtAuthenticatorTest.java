package io.parley.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.parley.auth.AuthResult.Authenticated;
import io.parley.auth.AuthResult.Rejected;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JwtAuthenticatorTest {

  private static final JwtSecret SECRET =
      new JwtSecret("test-secret-that-is-at-least-32-bytes".getBytes(UTF_8));
  private static final JwtSecret OTHER_SECRET =
      new JwtSecret("another-secret-also-at-least-32-bytes".getBytes(UTF_8));
  private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");
  private static final Instant IN_AN_HOUR = NOW.plus(Duration.ofHours(1));
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private final JwtAuthenticator authenticator = new JwtAuthenticator(SECRET, CLOCK);

  @Test
  void acceptsAValidToken() {
    String token = new JwtIssuer(SECRET, CLOCK).issue("alice", Duration.ofHours(1));

    assertEquals(new Authenticated("alice", IN_AN_HOUR), authenticator.authenticate(token));
  }

  @Test
  void rejectsAnExpiredToken() {
    Clock twoHoursAgo = Clock.offset(CLOCK, Duration.ofHours(-2));
    String token = new JwtIssuer(SECRET, twoHoursAgo).issue("alice", Duration.ofHours(1));

    assertEquals(new Rejected("expired"), authenticator.authenticate(token));
  }

  @Test
  void rejectsATokenExpiringThisVeryInstant() {
    String token = sign(SECRET, JWSAlgorithm.HS256, claims().expirationTime(Date.from(NOW)));

    assertEquals(new Rejected("expired"), authenticator.authenticate(token));
  }

  @Test
  void rejectsATokenWithoutExp() {
    String token = sign(SECRET, JWSAlgorithm.HS256, new JWTClaimsSet.Builder().subject("alice"));

    assertEquals(new Rejected("missing exp"), authenticator.authenticate(token));
  }

  @Test
  void rejectsATokenSignedWithAnotherSecret() {
    String token = new JwtIssuer(OTHER_SECRET, CLOCK).issue("alice", Duration.ofHours(1));

    assertEquals(new Rejected("invalid signature"), authenticator.authenticate(token));
  }

  @Test
  void rejectsAnUnsignedToken() {
    String header = base64Url("{\"alg\":\"none\"}");
    String payload = base64Url("{\"sub\":\"alice\",\"exp\":" + IN_AN_HOUR.getEpochSecond() + "}");

    assertEquals(
        new Rejected("algorithm not HS256"),
        authenticator.authenticate(header + "." + payload + "."));
  }

  @Test
  void rejectsAnHs512TokenEvenWithTheRightSecret() {
    JwtSecret longSecret = new JwtSecret(new byte[64]);
    String token = sign(longSecret, JWSAlgorithm.HS512, claims());

    assertEquals(
        new Rejected("algorithm not HS256"),
        new JwtAuthenticator(longSecret, CLOCK).authenticate(token));
  }

  @Test
  void rejectsATokenWithoutSub() {
    String token =
        sign(
            SECRET,
            JWSAlgorithm.HS256,
            new JWTClaimsSet.Builder().expirationTime(Date.from(IN_AN_HOUR)));

    assertEquals(new Rejected("missing sub"), authenticator.authenticate(token));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a b",
        "",
        "a/b",
        "ünïcode",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      })
  void rejectsATokenWithAnInvalidSub(String subject) {
    String token = sign(SECRET, JWSAlgorithm.HS256, claims().subject(subject));

    assertEquals(new Rejected("invalid sub"), authenticator.authenticate(token));
  }

  @Test
  void rejectsMissingTokens() {
    assertEquals(new Rejected("missing token"), authenticator.authenticate(null));
    assertEquals(new Rejected("missing token"), authenticator.authenticate(""));
    assertEquals(new Rejected("missing token"), authenticator.authenticate("   "));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"abc", "a.b.c", "a.b", "...", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.e30"})
  void rejectsMalformedTokens(String token) {
    assertEquals(new Rejected("malformed token"), authenticator.authenticate(token));
  }

  @Test
  void rejectsRandomBase64WithoutThrowing() {
    Random random = new Random(42);
    for (int i = 0; i < 1_000; i++) {
      String oneSegment = randomBase64(random);
      String threeSegments =
          String.join(".", randomBase64(random), randomBase64(random), randomBase64(random));

      assertInstanceOf(Rejected.class, authenticator.authenticate(oneSegment), oneSegment);
      assertInstanceOf(Rejected.class, authenticator.authenticate(threeSegments), threeSegments);
    }
  }

  @Test
  void rejectsATokenWhosePayloadWasChangedAfterSigning() {
    String[] parts = new JwtIssuer(SECRET, CLOCK).issue("alice", Duration.ofHours(1)).split("\\.");
    String forgedPayload =
        base64Url("{\"sub\":\"mallory\",\"exp\":" + IN_AN_HOUR.getEpochSecond() + "}");

    String tampered = parts[0] + "." + forgedPayload + "." + parts[2];

    assertEquals(new Rejected("invalid signature"), authenticator.authenticate(tampered));
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().subject("alice").expirationTime(Date.from(IN_AN_HOUR));
  }

  private static String sign(
      JwtSecret secret, JWSAlgorithm algorithm, JWTClaimsSet.Builder claims) {
    SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), claims.build());
    try {
      jwt.sign(new MACSigner(secret.bytes()));
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
    return jwt.serialize();
  }

  private static String base64Url(String json) {
    return Base64URL.encode(json.getBytes(UTF_8)).toString();
  }

  private static String randomBase64(Random random) {
    byte[] bytes = new byte[random.nextInt(64)];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
