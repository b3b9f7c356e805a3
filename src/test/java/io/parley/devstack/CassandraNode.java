package io.parley.devstack;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.internal.core.config.typesafe.DefaultProgrammaticDriverConfigLoaderBuilder;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A single Cassandra 5.0 node in its own JVM, all its data under the work folder. */
public final class CassandraNode extends ChildService {

  static final String NAME = "cassandra";
  private static final String HOST = "127.0.0.1";
  private static final String DATACENTER = "datacenter1";
  private static final String DRIVER_CONFIG_ROOT = "datastax-java-driver";

  /** From Cassandra 5.0's conf/jvm17-server.options: what its code reaches into on Java 17. */
  private static final List<String> JAVA17_MODULE_FLAGS = moduleFlags();

  private final Path projectDir;
  private final Path guardFolder;
  private final CassandraYaml.Ports ports;
  private final int jmxPort;
  private List<Path> classpath;

  CassandraNode(Path workDir, Path projectDir, Path guardFolder) {
    super(workDir.resolve(NAME), workDir.resolve("logs").resolve(NAME + ".log"));
    this.projectDir = projectDir;
    this.guardFolder = guardFolder;
    this.ports = new CassandraYaml.Ports(FreePorts.next(), FreePorts.next(), FreePorts.next());
    this.jmxPort = FreePorts.next();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String address() {
    return contactPoint();
  }

  @Override
  String environmentVariable() {
    return "PARLEY_CASSANDRA_CONTACT_POINTS";
  }

  public String host() {
    return HOST;
  }

  /** The CQL (native transport) port. */
  public int port() {
    return ports.nativeTransport();
  }

  /** For the driver's contact points and the {@code PARLEY_CASSANDRA_CONTACT_POINTS} variable. */
  public String contactPoint() {
    return HOST + ":" + port();
  }

  /** SimpleSnitch puts the node in this datacenter; the driver needs it as local datacenter. */
  public String datacenter() {
    return DATACENTER;
  }

  @Override
  protected void prepare() throws Exception {
    classpath = StackClasspath.resolve(projectDir, NAME);
    writeFile(yaml(), CassandraYaml.of(home(), ports));
    writeFile(logbackConfig(), CassandraYaml.logback());
  }

  @Override
  protected List<String> command() {
    Path jamm =
        classpath.stream()
            .filter(p -> p.getFileName().toString().startsWith("jamm-"))
            .findFirst()
            .orElseThrow(
                () -> new StackStartException("jamm missing from the Cassandra classpath"));
    List<String> jvmArgs =
        new ArrayList<>(
            List.of(
                "-Xms512m",
                "-Xmx1g",
                "-XX:+UseG1GC",
                // As Cassandra's own options: a node past an OOM may corrupt data, so stop it.
                "-XX:+ExitOnOutOfMemoryError",
                "-javaagent:" + jamm,
                "-Dcassandra-foreground=yes",
                "-Dcassandra.config=" + yaml().toUri(),
                "-Dcassandra.storagedir=" + home(),
                "-Dcassandra.logdir=" + home().resolve("logs"),
                "-Dlogback.configurationFile=" + logbackConfig().toUri(),
                "-Dcassandra.jmx.local.port=" + jmxPort,
                // Single node: nothing to gossip with, so do not wait for it.
                "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "-Dcassandra.load_ring_state=false",
                "-Dcassandra.superuser_setup_delay_ms=0",
                "-Dio.netty.tryReflectionSetAccessible=true",
                "-Djdk.attach.allowAttachSelf=true",
                "-Djava.net.preferIPv4Stack=true"));
    jvmArgs.addAll(JAVA17_MODULE_FLAGS);
    return JavaCommand.of(
        guardFolder, jvmArgs, classpath, "org.apache.cassandra.service.CassandraDaemon", List.of());
  }

  @Override
  protected Duration readyTimeout() {
    return Duration.ofSeconds(120);
  }

  /** A driver session to this node, with the classpath's driver settings; the caller closes it. */
  public CqlSession connect() {
    return sessionBuilder().build();
  }

  private CqlSessionBuilder sessionBuilder() {
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress(HOST, port()))
        .withLocalDatacenter(DATACENTER);
  }

  @Override
  protected ReadinessProbe readinessProbe() {
    return () -> {
      try (CqlSession session = sessionBuilder().withConfigLoader(probeConfig()).build()) {
        Row row = session.execute("SELECT release_version FROM system.local").one();
        return row != null && row.getString("release_version") != null;
      }
    };
  }

  /**
   * Driver settings from the driver's reference.conf only: an application.conf on our classpath may
   * point the driver elsewhere, which must not affect the probe.
   */
  private static DriverConfigLoader probeConfig() {
    return new DefaultProgrammaticDriverConfigLoaderBuilder(
            ConfigFactory::defaultReference, DRIVER_CONFIG_ROOT)
        .withDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT, Duration.ofSeconds(5))
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(5))
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10))
        .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, false)
        .withBoolean(DefaultDriverOption.METADATA_TOKEN_MAP_ENABLED, false)
        .build();
  }

  private Path yaml() {
    return home().resolve("conf").resolve("cassandra.yaml");
  }

  private Path logbackConfig() {
    return home().resolve("conf").resolve("logback.xml");
  }

  private static List<String> moduleFlags() {
    List<String> flags = new ArrayList<>();
    for (String export :
        List.of(
            "java.base/jdk.internal.misc",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
            "jdk.compiler/com.sun.tools.javac.file",
            "jdk.attach/sun.tools.attach")) {
      flags.add("--add-exports=" + export + "=ALL-UNNAMED");
    }
    for (String pkg :
        List.of(
            "java.lang.module",
            "jdk.internal.loader",
            "jdk.internal.ref",
            "jdk.internal.reflect",
            "jdk.internal.math",
            "jdk.internal.module",
            "jdk.internal.util.jar",
            "sun.nio.ch",
            "java.io",
            "java.lang.reflect",
            "java.lang",
            "java.util",
            "java.nio",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "java.math",
            "java.net")) {
      flags.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED");
    }
    flags.add("--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED");
    flags.add("--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED");
    return List.copyOf(flags);
  }
}
