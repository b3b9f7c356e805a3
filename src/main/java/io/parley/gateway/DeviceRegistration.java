package io.parley.gateway;

import io.parley.registry.ConnectionRegistry;
import java.util.concurrent.CompletionStage;

/**
 * What a {@link Session} needs of the connection registry: to put its device in (and refresh it on
 * each heartbeat) and to take it out on close. A seam, so a unit test can fail it on purpose; the
 * node uses {@link #of(ConnectionRegistry)}.
 */
public interface DeviceRegistration {

  /** Registers or refreshes a device on a node; fails when the registry cannot be reached. */
  CompletionStage<Void> register(String userId, String deviceId, String node);

  /** Removes a device, unless it has meanwhile registered on another node. */
  CompletionStage<Boolean> unregister(String userId, String deviceId, String node);

  /** The Redis registry itself. */
  static DeviceRegistration of(ConnectionRegistry registry) {
    return new DeviceRegistration() {
      @Override
      public CompletionStage<Void> register(String userId, String deviceId, String node) {
        return registry.register(userId, deviceId, node);
      }

      @Override
      public CompletionStage<Boolean> unregister(String userId, String deviceId, String node) {
        return registry.unregister(userId, deviceId, node);
      }
    };
  }
}
