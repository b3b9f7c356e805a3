package io.parley.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import io.parley.devstack.LocalStack;
import io.parley.testing.Counter;
import io.parley.testing.StackExtension;
import io.parley.testing.TestNodes;
import java.time.Duration;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Events written to the Cassandra journal survive their actor system. */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class CassandraRecoveryIntegrationTest {

  private static final Duration PERSIST_TIMEOUT = Duration.ofSeconds(60);

  @Test
  void aNewActorSystemRecoversThePersistedEvents(LocalStack stack) {
    Config config = TestNodes.localSystem(stack);
    String counterId = "counter-" + UUID.randomUUID();

    ActorTestKit first = ActorTestKit.create("cassandra-first", config);
    try {
      ActorRef<Counter.Command> counter = first.spawn(Counter.create(counterId));
      TestProbe<Integer> replies = first.createTestProbe();
      for (int i = 1; i <= 3; i++) {
        counter.tell(new Counter.Increment(replies.getRef()));
        assertEquals(i, replies.expectMessageClass(Integer.class, PERSIST_TIMEOUT));
      }
    } finally {
      first.shutdownTestKit();
    }

    ActorTestKit second = ActorTestKit.create("cassandra-second", config);
    try {
      ActorRef<Counter.Command> recovered = second.spawn(Counter.create(counterId));
      TestProbe<Integer> replies = second.createTestProbe();
      recovered.tell(new Counter.Get(replies.getRef()));
      assertEquals(3, replies.expectMessageClass(Integer.class, PERSIST_TIMEOUT));
      recovered.tell(new Counter.Increment(replies.getRef()));
      assertEquals(4, replies.expectMessageClass(Integer.class, PERSIST_TIMEOUT));
    } finally {
      second.shutdownTestKit();
    }
  }
}
