package io.parley.devstack;

/** The infrastructure services the local stack can run as child processes. */
public enum StackService {
  REDIS,
  KAFKA,
  CASSANDRA
}
