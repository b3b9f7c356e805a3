package io.parley.gateway;

import io.parley.Json;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/** REST errors as protocol.md has them: {@code {"error":{"code":…,"message":…}}} and a status. */
public final class HttpErrors {
  private HttpErrors() {}

  public static StatusCode statusOf(ErrorCode code) {
    return switch (code) {
      case BAD_REQUEST -> StatusCodes.BAD_REQUEST;
      case UNAUTHORIZED -> StatusCodes.UNAUTHORIZED;
      case FORBIDDEN -> StatusCodes.FORBIDDEN;
      case NOT_FOUND -> StatusCodes.NOT_FOUND;
      case TOO_LARGE -> StatusCodes.PAYLOAD_TOO_LARGE;
      case RATE_LIMITED -> StatusCodes.TOO_MANY_REQUESTS;
      case UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
    };
  }

  public static HttpResponse response(ErrorCode code, String message) {
    return HttpResponse.create()
        .withStatus(statusOf(code))
        .withEntity(Json.entity(Map.of("error", Map.of("code", code.wire(), "message", message))));
  }

  public static Route complete(ErrorCode code, String message) {
    return Directives.complete(response(code, message));
  }

  /** Pekko's own rejections (no route, wrong method, bad upgrade) in the same shape. */
  public static RejectionHandler rejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (response.entity().getContentType().mediaType().isApplication()) {
                return response;
              }
              int status = response.status().intValue();
              ErrorCode code =
                  switch (status) {
                    case 401 -> ErrorCode.UNAUTHORIZED;
                    case 403 -> ErrorCode.FORBIDDEN;
                    case 404, 405 -> ErrorCode.NOT_FOUND;
                    case 413 -> ErrorCode.TOO_LARGE;
                    default -> ErrorCode.BAD_REQUEST;
                  };
              String message =
                  response.entity()
                          instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
                      ? strict.getData().utf8String()
                      : response.status().reason();
              return response.withEntity(
                  Json.entity(Map.of("error", Map.of("code", code.wire(), "message", message))));
            });
  }

  /** An oversize body is 413; anything unexpected is 503 without internals leaking out. */
  public static ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(
            EntityStreamSizeException.class,
            e -> complete(ErrorCode.TOO_LARGE, "request body too large"))
        .matchAny(e -> complete(ErrorCode.UNAVAILABLE, "internal error, try again later"))
        .build();
  }
}
