package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

  private static final ClientFrame SEND =
      new ClientFrame.Send("c1", UUID.randomUUID().toString(), "hi");
  private static final ClientFrame TYPING = new ClientFrame.Typing("c1");

  @Test
  void aBurstPassesThenFramesAreLimitedThenAbuseIsCalledOut() {
    RateLimits limits = new RateLimits(new RateLimits.Settings(1, 3, 1, 1, 4));
    for (int i = 0; i < 3; i++) {
      assertEquals(RateLimits.Verdict.ALLOWED, limits.check(SEND), "the burst");
    }
    for (int i = 0; i < 3; i++) {
      assertEquals(RateLimits.Verdict.LIMITED, limits.check(SEND));
    }
    assertEquals(RateLimits.Verdict.ABUSIVE, limits.check(SEND), "the fourth refusal in a row");
  }

  @Test
  void aRefusalSaysWhenTheNextFrameOfItsKindWouldPass() {
    RateLimits limits = new RateLimits(new RateLimits.Settings(2, 1, 1, 1, 10));
    assertEquals(RateLimits.Verdict.ALLOWED, limits.check(SEND));
    assertEquals(RateLimits.Verdict.LIMITED, limits.check(SEND));
    // 2 a second: the next token comes within half a second of the one just taken.
    Duration wait = limits.retryAfter();
    assertTrue(
        wait.compareTo(Duration.ZERO) > 0 && wait.compareTo(Duration.ofMillis(500)) <= 0,
        "retry after " + wait);
  }

  @Test
  void sendsAndTypingHaveTheirOwnBucketsAndOtherFramesAreFree() {
    RateLimits limits = new RateLimits(new RateLimits.Settings(1, 1, 1, 1, 10));
    assertEquals(RateLimits.Verdict.ALLOWED, limits.check(SEND));
    assertEquals(RateLimits.Verdict.LIMITED, limits.check(SEND));
    assertEquals(RateLimits.Verdict.ALLOWED, limits.check(TYPING), "typing has its own budget");
    assertEquals(RateLimits.Verdict.LIMITED, limits.check(TYPING));
    for (int i = 0; i < 50; i++) {
      assertEquals(RateLimits.Verdict.ALLOWED, limits.check(new ClientFrame.Ping()));
    }
  }
}
