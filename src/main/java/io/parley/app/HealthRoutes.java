package io.parley.app;

import io.parley.Json;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /health/alive} (the process serves HTTP) and {@code /health/ready} (see {@link
 * Readiness}).
 */
public final class HealthRoutes extends AllDirectives {

  private final Readiness readiness;

  public HealthRoutes(Readiness readiness) {
    this.readiness = readiness;
  }

  public Route routes() {
    return pathPrefix(
        "health",
        () ->
            concat(
                path(
                    "alive",
                    () ->
                        get(
                            () ->
                                complete(StatusCodes.OK, Json.entity(Map.of("status", "alive"))))),
                path("ready", () -> get(this::ready))));
  }

  private Route ready() {
    return onSuccess(
        readiness.check(),
        report ->
            complete(
                report.ready() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE,
                Json.entity(
                    Map.of("status", report.ready() ? "ready" : "not_ready", "checks", report))));
  }
}
