package io.parley.gateway;

import io.parley.Ids;
import io.parley.ops.NodeState;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /ws}: refuse while draining, authenticate, validate the device id, upgrade; everything
 * after the upgrade is the session's.
 */
public final class GatewayRoutes extends AllDirectives {

  private final Authentication authentication;
  private final WebSocketConnections connections;
  private final NodeState nodeState;

  public GatewayRoutes(
      Authentication authentication, WebSocketConnections connections, NodeState nodeState) {
    this.authentication = authentication;
    this.connections = connections;
    this.nodeState = nodeState;
  }

  public Route routes() {
    return path(
        "ws",
        () ->
            get(
                () ->
                    nodeState.draining()
                        ? HttpErrors.complete(
                            ErrorCode.UNAVAILABLE, "this node is shutting down; connect to another")
                        : authentication.authenticated(
                            userId ->
                                parameterOptional(
                                    "device",
                                    device -> upgrade(userId, device.orElse("default"))))));
  }

  private Route upgrade(String userId, String deviceId) {
    if (!Ids.isValid(deviceId)) {
      return HttpErrors.complete(ErrorCode.BAD_REQUEST, "device ids are " + Ids.RULE);
    }
    return onSuccess(connections.connect(userId, deviceId), this::handleWebSocketMessages);
  }
}
