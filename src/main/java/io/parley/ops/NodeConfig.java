package io.parley.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Loads a node's configuration: system properties, then the given overrides, then {@code
 * application.conf} (whose {@code ${?ENV}} overrides apply), then Pekko's defaults.
 *
 * <p>Operators give lists (seed nodes, Cassandra contact points) as comma-separated env vars; this
 * is the one place that turns them into the lists Pekko and the driver read.
 */
public final class NodeConfig {
  private NodeConfig() {}

  public static Config load() {
    return load(Map.of());
  }

  /** Overrides take part in substitution, so {@code parley.*} values flow into Pekko's keys. */
  public static Config load(Map<String, ?> overrides) {
    ConfigFactory.invalidateCaches();
    Config unresolved =
        ConfigFactory.defaultOverrides()
            .withFallback(ConfigFactory.parseMap(overrides))
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application"))
            .withFallback(ConfigFactory.defaultReference());
    return expandLists(unresolved.resolve());
  }

  private static Config expandLists(Config config) {
    Config expanded = config;
    List<String> seeds = commaSeparated(config.getString("parley.cluster.seed-nodes"));
    if (!seeds.isEmpty()) {
      expanded =
          expanded.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    }
    List<String> contactPoints =
        commaSeparated(config.getString("parley.cassandra.contact-points"));
    return expanded.withValue(
        "datastax-java-driver.basic.contact-points",
        ConfigValueFactory.fromIterable(contactPoints));
  }

  static List<String> commaSeparated(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
