package io.parley.devstack;

/**
 * Asks a service whether it truly answers requests (an open port is not enough: Kafka and Cassandra
 * accept connections well before they can serve them).
 *
 * <p>A probe may hold a client across attempts; it is closed when waiting ends.
 */
interface ReadinessProbe extends AutoCloseable {

  /** True once the service answers; false or an exception while it is still starting. */
  boolean answers() throws Exception;

  @Override
  default void close() {}
}
