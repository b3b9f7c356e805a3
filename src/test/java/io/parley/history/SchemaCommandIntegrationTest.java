package io.parley.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.devstack.LocalStack;
import io.parley.testing.StackExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production deploy step, {@code java -cp … io.parley.history.Schema}, run as an operator runs
 * it: a separate JVM configured only through the node's environment variables, against a keyspace
 * created beforehand (with {@code create-schema} off the command does not create it).
 */
@ExtendWith(StackExtension.class)
class SchemaCommandIntegrationTest {

  /** A JVM start, an actor system and a handful of DDL statements; generous for a busy machine. */
  private static final Duration RUN_DEADLINE = Duration.ofMinutes(3);

  /** The tables of db/cassandra/V1__history.cql, plus the command's own bookkeeping table. */
  private static final Set<String> EXPECTED_TABLES =
      Set.of(
          "messages",
          "conversation_heads",
          "conversations_by_user",
          "read_markers",
          "schema_version");

  private static LocalStack stack;
  private static CqlSession cql;
  private static final Set<String> keyspaces = new TreeSet<>();

  @BeforeAll
  static void connect(LocalStack localStack) {
    stack = localStack;
    cql = stack.cassandra().connect();
  }

  @AfterAll
  static void dropKeyspacesAndDisconnect() {
    if (cql == null) {
      return;
    }
    try {
      keyspaces.forEach(keyspace -> cql.execute("DROP KEYSPACE IF EXISTS " + keyspace));
    } finally {
      cql.close();
    }
  }

  @Test
  void createsEveryTableInAnExistingKeyspaceAndASecondRunKeepsTheSchema(@TempDir Path dir)
      throws Exception {
    String keyspace = uniqueKeyspace();
    cql.execute(
        "CREATE KEYSPACE "
            + keyspace
            + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    assertEquals(Map.of(), tableIds(keyspace), "a fresh keyspace has no tables");

    Run first = runSchemaCommand(keyspace, dir.resolve("first.out"));
    assertEquals(0, first.exitCode(), "exit code of the first run; output:\n" + first.output());
    assertTrue(
        first.output().contains("schema up to date: " + Schema.MIGRATIONS),
        "first run's output:\n" + first.output());
    assertEquals(EXPECTED_TABLES, tableIds(keyspace).keySet(), "tables after the first run");
    Map<String, Instant> applied = appliedMigrations(keyspace);
    assertEquals(
        Set.copyOf(Schema.MIGRATIONS), applied.keySet(), "schema_version after the first run");
    assertFalse(applied.containsValue(null), "a migration without applied_at: " + applied);
    Map<String, UUID> tables = tableIds(keyspace);
    Set<String> columns = columns(keyspace);

    Run second = runSchemaCommand(keyspace, dir.resolve("second.out"));
    assertEquals(0, second.exitCode(), "exit code of the second run; output:\n" + second.output());
    assertTrue(
        second.output().contains("schema up to date: " + Schema.MIGRATIONS),
        "second run's output:\n" + second.output());
    assertEquals(tables, tableIds(keyspace), "tables (names and ids) after the second run");
    assertEquals(columns, columns(keyspace), "column definitions after the second run");
    assertEquals(
        applied,
        appliedMigrations(keyspace),
        "schema_version after the second run: each migration applied once, at its first run");
  }

  @Test
  void failsAndNamesTheKeyspaceWhenItDoesNotExist(@TempDir Path dir) throws Exception {
    String keyspace = uniqueKeyspace();

    Run run = runSchemaCommand(keyspace, dir.resolve("missing.out"));

    assertNotEquals(0, run.exitCode(), "exit code; output:\n" + run.output());
    assertFalse(
        run.output().contains("schema up to date"), "claims success; output:\n" + run.output());
    Pattern problem =
        Pattern.compile(
            "keyspace '?" + keyspace + "'? (does not|doesn't) exist", Pattern.CASE_INSENSITIVE);
    assertTrue(
        problem.matcher(run.output()).find(),
        "output does not say that keyspace " + keyspace + " is missing:\n" + run.output());
    assertTrue(
        run.output().contains("create it first"),
        "tells the operator what to do:\n" + run.output());
    assertFalse(keyspaceExists(keyspace), "the command created keyspace " + keyspace);
  }

  /** Keyspace names: letters, digits and underscores, at most 48 characters. */
  private static String uniqueKeyspace() {
    String keyspace =
        "schema_cmd_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    keyspaces.add(keyspace);
    return keyspace;
  }

  /**
   * {@code java -cp <our classpath> io.parley.history.Schema} with only the operator's settings in
   * its environment (inherited PARLEY_ and CHAT_ variables removed), stdout and stderr in one file.
   * The process is killed if it has not exited by the deadline or the wait is interrupted.
   */
  private static Run runSchemaCommand(String keyspace, Path outputFile) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Schema.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(outputFile.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(name -> name.startsWith("PARLEY_") || name.startsWith("CHAT_"));
    env.put("PARLEY_CASSANDRA_CONTACT_POINTS", stack.cassandra().contactPoint());
    env.put("PARLEY_CASSANDRA_DC", stack.cassandra().datacenter());
    env.put("PARLEY_HISTORY_KEYSPACE", keyspace);
    env.put("PARLEY_CASSANDRA_CREATE_SCHEMA", "false");
    Process process = builder.start();
    try {
      process.getOutputStream().close(); // no stdin, as in a Kubernetes Job
      boolean exited = process.waitFor(RUN_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      assertTrue(
          exited,
          "io.parley.history.Schema did not exit within "
              + RUN_DEADLINE.toSeconds()
              + " s; output so far:\n"
              + read(outputFile));
      Run run = new Run(process.exitValue(), read(outputFile));
      System.out.println(
          "io.parley.history.Schema on keyspace "
              + keyspace
              + " exited with "
              + run.exitCode()
              + ", output:\n"
              + run.output());
      return run;
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }

  private static Map<String, UUID> tableIds(String keyspace) {
    Map<String, UUID> tables = new TreeMap<>();
    for (Row row :
        cql.execute(
            "SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?", keyspace)) {
      tables.put(row.getString("table_name"), row.getUuid("id"));
    }
    return tables;
  }

  private static Set<String> columns(String keyspace) {
    Set<String> columns = new TreeSet<>();
    for (Row row :
        cql.execute(
            "SELECT table_name, column_name, type, kind, position, clustering_order"
                + " FROM system_schema.columns WHERE keyspace_name = ?",
            keyspace)) {
      columns.add(
          String.join(
              " ",
              row.getString("table_name"),
              row.getString("column_name"),
              row.getString("type"),
              row.getString("kind"),
              Integer.toString(row.getInt("position")),
              row.getString("clustering_order")));
    }
    return columns;
  }

  private static Map<String, Instant> appliedMigrations(String keyspace) {
    Map<String, Instant> applied = new TreeMap<>();
    for (Row row : cql.execute("SELECT version, applied_at FROM " + keyspace + ".schema_version")) {
      applied.put(row.getString("version"), row.getInstant("applied_at"));
    }
    return applied;
  }

  private static boolean keyspaceExists(String keyspace) {
    return cql.execute(
                "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
                keyspace)
            .one()
        != null;
  }

  private record Run(int exitCode, String output) {}
}
