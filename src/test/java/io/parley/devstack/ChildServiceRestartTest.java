package io.parley.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisConnectionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stopped service comes back where its clients expect it. Own Redis-only stack: fast and
 * isolated.
 */
class ChildServiceRestartTest {

  private static LocalStack stack;

  @BeforeAll
  static void startRedis() {
    stack = LocalStack.start(StackOptions.defaults().only(StackService.REDIS));
  }

  @AfterAll
  static void closeStack() {
    stack.close();
  }

  @Test
  void redisStopsAndRestartsOnTheSamePort() {
    RedisServer redis = stack.redis();
    int port = redis.port();
    long firstPid = redis.pid();
    assertEquals("PONG", RedisPing.ping(redis.uri()));

    redis.stop();
    assertFalse(redis.isRunning());
    assertTrue(ProcessHandle.of(firstPid).isEmpty() || !ProcessHandle.of(firstPid).get().isAlive());
    assertThrows(RedisConnectionException.class, () -> RedisPing.ping(redis.uri()));

    redis.restart();
    assertTrue(redis.isRunning());
    assertEquals(port, redis.port());
    assertEquals("redis://127.0.0.1:" + port, redis.uri());
    assertEquals("PONG", RedisPing.ping(redis.uri()));
  }

  @Test
  void servicesThatWereNotStartedAreRefused() {
    assertThrows(IllegalStateException.class, stack::kafka);
    assertThrows(IllegalStateException.class, stack::cassandra);
  }
}
