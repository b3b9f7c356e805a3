package io.parley.devstack;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.datastax.oss.driver.api.core.CqlSession;
import io.parley.testing.StackExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The full shared stack (all three services, Cassandra included) through the JUnit extension: every
 * service answers its real client and survives a restart. Slow (a minute or so): run it on its own
 * with -Dtest=StackExtensionTest.
 */
@ExtendWith(StackExtension.class)
class StackExtensionTest {

  private final LocalStack stack;

  StackExtensionTest(LocalStack stack) {
    this.stack = stack;
  }

  @BeforeAll
  static void sharedAcrossInjectionPoints(LocalStack fromBeforeAll) {
    assertNotNull(fromBeforeAll.workDir());
  }

  @Test
  void theSameStackIsInjectedEverywhere(LocalStack fromMethod) {
    assertSame(stack, fromMethod);
  }

  @Test
  void cassandraAnswersAndComesBackAfterAnOutage() {
    CassandraNode cassandra = stack.cassandra();
    assertEquals("datacenter1", cassandra.datacenter());
    assertNotNull(releaseVersion(cassandra));

    cassandra.stop();
    assertFalse(cassandra.isRunning());
    cassandra.restart();

    assertNotNull(releaseVersion(cassandra));
  }

  @Test
  void kafkaCreatesTopicsAndComesBackAfterARestart() throws Exception {
    KafkaBroker kafka = stack.kafka();
    createTopic(kafka, "before-restart");
    kafka.restart();
    createTopic(kafka, "after-restart");
  }

  @Test
  void redisAnswers() {
    assertEquals("PONG", RedisPing.ping(stack.redis().uri()));
  }

  private static String releaseVersion(CassandraNode cassandra) {
    try (CqlSession session = cassandra.connect()) {
      return session.execute("SELECT release_version FROM system.local").one().getString(0);
    }
  }

  private static void createTopic(KafkaBroker kafka, String name) throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
      // The broker's metadata may apply the controller's new topic a moment after the create
      // returns (a CI run listed topics without it once).
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(name));
    }
  }
}
