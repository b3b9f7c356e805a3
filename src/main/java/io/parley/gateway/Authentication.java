package io.parley.gateway;

import io.parley.auth.AuthResult;
import io.parley.auth.JwtAuthenticator;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Requires a valid client JWT, from {@code Authorization: Bearer …} or the {@code access_token}
 * query parameter (browsers cannot set headers on a WebSocket upgrade). Anything else is 401,
 * before any upgrade or body is read.
 */
public final class Authentication extends AllDirectives {

  private static final String BEARER = "Bearer ";
  private final JwtAuthenticator authenticator;

  public Authentication(JwtAuthenticator authenticator) {
    this.authenticator = authenticator;
  }

  public Route authenticated(Function<String, Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        header ->
            parameterOptional(
                "access_token",
                query -> {
                  Optional<String> token =
                      header
                          .filter(h -> h.startsWith(BEARER))
                          .map(h -> h.substring(BEARER.length()))
                          .or(() -> query);
                  if (token.isEmpty()) {
                    return HttpErrors.complete(
                        ErrorCode.UNAUTHORIZED, "a bearer token is required");
                  }
                  AuthResult result = authenticator.authenticate(token.get());
                  if (result instanceof AuthResult.Authenticated authenticated) {
                    return inner.apply(authenticated.userId());
                  }
                  return HttpErrors.complete(
                      ErrorCode.UNAUTHORIZED, ((AuthResult.Rejected) result).reason());
                }));
  }
}
