package io.parley.gateway;

import com.typesafe.config.Config;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;

/**
 * One connection's limits on {@code send} and {@code typing} frames: token buckets (a steady rate
 * plus a burst). A frame over the limit is refused with {@code rate_limited}; a client that keeps
 * sending far over it (many refusals in a row) is abusive and gets closed.
 */
public final class RateLimits {

  enum Verdict {
    ALLOWED,
    LIMITED,
    ABUSIVE
  }

  /** The configured rates ({@code parley.gateway.rate-limit}). */
  public record Settings(
      long sendsPerSecond,
      long sendBurst,
      long typingPerSecond,
      long typingBurst,
      int closeAfterRefusals) {

    public static Settings fromConfig(Config config) {
      return new Settings(
          config.getLong("sends-per-second"),
          config.getLong("send-burst"),
          config.getLong("typing-per-second"),
          config.getLong("typing-burst"),
          config.getInt("close-after-refusals"));
    }
  }

  private final Settings settings;
  private final Bucket sends;
  private final Bucket typing;
  private int refusedInARow;
  private Duration retryAfter = Duration.ZERO;

  RateLimits(Settings settings) {
    this.settings = settings;
    this.sends = bucket(settings.sendsPerSecond(), settings.sendBurst());
    this.typing = bucket(settings.typingPerSecond(), settings.typingBurst());
  }

  private static Bucket bucket(long perSecond, long burst) {
    return Bucket.builder()
        .addLimit(
            Bandwidth.builder()
                .capacity(burst)
                .refillGreedy(perSecond, Duration.ofSeconds(1))
                .build())
        .build();
  }

  Verdict check(ClientFrame frame) {
    Bucket bucket =
        frame instanceof ClientFrame.Send
            ? sends
            : frame instanceof ClientFrame.Typing ? typing : null;
    if (bucket == null) {
      refusedInARow = 0;
      return Verdict.ALLOWED;
    }
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      refusedInARow = 0;
      return Verdict.ALLOWED;
    }
    retryAfter = Duration.ofNanos(probe.getNanosToWaitForRefill());
    return ++refusedInARow >= settings.closeAfterRefusals() ? Verdict.ABUSIVE : Verdict.LIMITED;
  }

  /** After a refusal: how long until a frame of the refused kind would be taken. */
  Duration retryAfter() {
    return retryAfter;
  }
}
