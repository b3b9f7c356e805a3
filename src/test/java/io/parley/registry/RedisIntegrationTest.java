package io.parley.registry;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.parley.devstack.LocalStack;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Redis primitives the registry, dedup and presence are built on, against a real server. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class RedisIntegrationTest {

  private static ActorTestKit testKit;
  private static LocalStack stack;

  @BeforeAll
  static void start(LocalStack localStack) {
    stack = localStack;
    testKit = ActorTestKit.create("redis-test", TestNodes.localSystem(stack));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static RedisAsyncCommands<String, String> redis() {
    return RedisConnector.get(testKit.system()).async();
  }

  private static <T> T get(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Scripts go by SHA1; a Redis that forgot them (restarted, flushed) is sent them again. */
  @Test
  void aScriptRunsAgainAfterRedisForgetsIt() throws Exception {
    RedisConnector connector = RedisConnector.get(testKit.system());
    String script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    String key = "script:test:" + UUID.randomUUID();
    String[] keys = {key};
    assertEquals(2L, get(connector.eval(script, ScriptOutputType.INTEGER, keys, "2")));
    assertEquals(5L, get(connector.eval(script, ScriptOutputType.INTEGER, keys, "3")));
    assertEquals("OK", get(redis().scriptFlush()));
    assertEquals(9L, get(connector.eval(script, ScriptOutputType.INTEGER, keys, "4")));
    assertEquals("9", get(redis().get(key)), "the script ran once per call, no more");
  }

  @Test
  void setNxExWritesOnceAndKeepsTheFirstValue() throws Exception {
    String key = "dedup:test:" + UUID.randomUUID();
    SetArgs nxEx = SetArgs.Builder.nx().ex(86_400);

    assertEquals("OK", get(redis().set(key, "first", nxEx)));
    assertNull(get(redis().set(key, "second", nxEx)), "NX refuses an existing key");
    assertEquals("first", get(redis().get(key)));
    long ttl = get(redis().ttl(key));
    assertTrue(ttl > 86_000 && ttl <= 86_400, "EX set the TTL, was " + ttl);
  }

  @Test
  void aKeyExpiresWithItsTtl() throws Exception {
    String key = "presence:test:" + UUID.randomUUID();
    assertEquals("OK", get(redis().set(key, "online", SetArgs.Builder.px(300))));
    assertEquals("online", get(redis().get(key)));

    await().atMost(Duration.ofSeconds(10)).until(() -> get(redis().exists(key)) == 0L);
    assertNull(get(redis().get(key)));
  }

  @Test
  void publishReachesASubscriber() throws Exception {
    String channel = "node:test:" + UUID.randomUUID();
    CompletableFuture<String> received = new CompletableFuture<>();
    RedisClient client = RedisClient.create(stack.redis().uri());
    try (StatefulRedisPubSubConnection<String, String> subscriber = client.connectPubSub()) {
      subscriber.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String fromChannel, String message) {
              if (fromChannel.equals(channel)) {
                received.complete(message);
              }
            }
          });
      get(subscriber.async().subscribe(channel));

      assertEquals(1L, get(redis().publish(channel, "envelope-1")), "one subscriber listening");
      assertEquals("envelope-1", received.get(10, TimeUnit.SECONDS));
    } finally {
      client.shutdown();
    }
  }

  @Test
  void pingAnswers() throws Exception {
    assertTrue(get(RedisConnector.get(testKit.system()).ping()));
  }
}
