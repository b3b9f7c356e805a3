package io.parley.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.parley.ops.Metrics;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The gateway's meters on this node: connections, sends and acks, ack and delivery latency
 * (Prometheus histograms, so percentiles can be aggregated across nodes), outbound buffer depth and
 * registry errors.
 */
final class GatewayMetrics implements Extension {

  private static final ExtensionId<GatewayMetrics> ID =
      new ExtensionId<>() {
        @Override
        public GatewayMetrics createExtension(ActorSystem<?> system) {
          return new GatewayMetrics(Metrics.get(system).registry());
        }
      };

  final AtomicInteger connections = new AtomicInteger();
  final Counter sends;
  final Counter acks;
  final Counter registryErrors;

  /** From a {@code send} frame read to its {@code ack} queued for the socket. */
  final Timer ackLatency;

  /**
   * From a message's {@code sentAt} (stamped by its conversation, on another node's clock) to its
   * push to a recipient's socket buffer.
   */
  final Timer deliveryLatency;

  /** Frames waiting in a connection's outbound buffer, sampled at each push. */
  final DistributionSummary outboundDepth;

  private GatewayMetrics(MeterRegistry registry) {
    Gauge.builder("parley_connections", connections, AtomicInteger::get)
        .description("Open WebSocket sessions on this node")
        .register(registry);
    sends =
        Counter.builder("parley_sends_total").description("send frames read").register(registry);
    acks = Counter.builder("parley_acks_total").description("acks sent").register(registry);
    registryErrors =
        Counter.builder("parley_registry_errors_total")
            .description("Failed registry registrations and refreshes")
            .register(registry);
    ackLatency = latency("parley_ack_latency", "From a send read to its ack", registry);
    deliveryLatency =
        latency("parley_delivery_latency", "From a message's sentAt to its push", registry);
    outboundDepth =
        DistributionSummary.builder("parley_outbound_depth_frames")
            .description("Frames buffered for a connection when another is pushed")
            .publishPercentileHistogram()
            .maximumExpectedValue(1024.0)
            .register(registry);
  }

  private static Timer latency(String name, String description, MeterRegistry registry) {
    return Timer.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry);
  }

  static GatewayMetrics get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }
}
