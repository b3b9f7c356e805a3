package io.parley.registry;

import io.parley.registry.ConnectionRegistry.DeviceLocation;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where the connected devices of some users are: the seam between a fan-out and the connection
 * registry ({@link ConnectionRegistry} is the one production uses), so the fan-out can be tested
 * without Redis.
 */
public interface DeviceLocator {

  /** Every live device of the given users; fails when the lookup could not be made. */
  CompletionStage<List<DeviceLocation>> locate(Collection<String> userIds);
}
