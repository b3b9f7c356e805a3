package io.parley.gateway;

import io.parley.Ids;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /ws}: authenticate, validate the device id, upgrade; everything else is the session's.
 */
public final class GatewayRoutes extends AllDirectives {

  private final Authentication authentication;
  private final WebSocketConnections connections;

  public GatewayRoutes(Authentication authentication, WebSocketConnections connections) {
    this.authentication = authentication;
    this.connections = connections;
  }

  public Route routes() {
    return path(
        "ws",
        () ->
            get(
                () ->
                    authentication.authenticated(
                        userId ->
                            parameterOptional(
                                "device",
                                device -> {
                                  String deviceId = device.orElse("default");
                                  if (!Ids.isValid(deviceId)) {
                                    return HttpErrors.complete(
                                        ErrorCode.BAD_REQUEST,
                                        "device must be 1 to 64 of A-Z a-z 0-9 _ -");
                                  }
                                  return handleWebSocketMessages(
                                      connections.connect(userId, deviceId));
                                }))));
  }
}
