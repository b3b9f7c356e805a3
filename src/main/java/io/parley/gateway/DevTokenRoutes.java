package io.parley.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.typesafe.config.Config;
import io.parley.Ids;
import io.parley.Json;
import io.parley.auth.IssueToken;
import io.parley.auth.JwtIssuer;
import io.parley.auth.JwtSecret;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code POST /dev/token {"userId":"alice"}} → {@code {"token":"…"}}: anyone may become anyone, so
 * this exists only where {@code parley.demo.dev-tokens = on} (the local run and tests). Off, the
 * path is unknown (404), not refused, so production does not even reveal it.
 */
public final class DevTokenRoutes extends AllDirectives {

  /** The request body. */
  public record TokenRequest(String userId) {}

  private static final Duration TTL = Duration.ofHours(1);
  private static final long MAX_BODY_BYTES = 1024;

  private final JwtIssuer issuer;
  private final boolean enabled;

  public DevTokenRoutes(JwtIssuer issuer, boolean enabled) {
    this.issuer = issuer;
    this.enabled = enabled;
  }

  public static DevTokenRoutes fromConfig(Config config, JwtSecret secret) {
    return new DevTokenRoutes(
        new JwtIssuer(secret, Clock.systemUTC()), config.getBoolean("parley.demo.dev-tokens"));
  }

  public Route routes() {
    if (!enabled) {
      return reject();
    }
    return path(
        PathMatchers.segment("dev").slash("token"),
        () ->
            post(
                () ->
                    withSizeLimit(
                        MAX_BODY_BYTES, () -> entity(Unmarshaller.entityToString(), this::issue))));
  }

  private Route issue(String body) {
    String userId = userId(body);
    if (!Ids.isValid(userId)) {
      return HttpErrors.complete(ErrorCode.BAD_REQUEST, "userId must be " + Ids.RULE);
    }
    return complete(StatusCodes.OK, Json.entity(Map.of("token", issuer.issue(userId, TTL))));
  }

  /** The body's {@code userId}, or null when the body is not a JSON object with one. */
  private static String userId(String body) {
    try {
      TokenRequest request = Json.mapper().readValue(body, TokenRequest.class);
      return request == null ? null : request.userId();
    } catch (JsonProcessingException malformed) {
      return null;
    }
  }
}
