package io.parley.history;

import com.typesafe.config.Config;
import io.parley.ops.NodeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/**
 * Applies the CQL migrations in {@code db/cassandra/} in order, once each: applied versions are
 * recorded in {@code schema_version}. Every statement is idempotent ({@code IF NOT EXISTS}), so two
 * nodes starting together are harmless.
 *
 * <p>Runs on node start when {@code parley.history.create-schema} is on (tests, local run; it also
 * creates the keyspace there), and as a deploy step in production: {@code java -cp …
 * io.parley.history.Schema} with the node's environment.
 */
public final class Schema {

  /** The migrations, oldest first. Add a file and its name here; never edit an applied one. */
  static final List<String> MIGRATIONS = List.of("V1__history");

  private Schema() {}

  public static CompletionStage<Done> migrate(
      CassandraSession session, Config config, boolean createKeyspace) {
    String keyspace = config.getString("parley.history.keyspace");
    CompletionStage<Done> chain =
        createKeyspace
            ? session.executeDDL(
                "CREATE KEYSPACE IF NOT EXISTS "
                    + keyspace
                    + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
                    + config.getInt("parley.cassandra.replication-factor")
                    + "}")
            : CompletableFuture.completedFuture(Done.getInstance());
    chain =
        chain.thenCompose(
            done ->
                session.executeDDL(
                    "CREATE TABLE IF NOT EXISTS "
                        + keyspace
                        + ".schema_version (version text PRIMARY KEY, applied_at timestamp)"));
    return chain
        .thenCompose(
            done -> session.selectAll("SELECT version FROM " + keyspace + ".schema_version"))
        .thenCompose(
            rows -> {
              Set<String> applied =
                  rows.stream().map(row -> row.getString("version")).collect(Collectors.toSet());
              CompletionStage<Done> pending = CompletableFuture.completedFuture(Done.getInstance());
              for (String migration : MIGRATIONS) {
                if (!applied.contains(migration)) {
                  pending = pending.thenCompose(done -> apply(session, keyspace, migration));
                }
              }
              return pending;
            });
  }

  private static CompletionStage<Done> apply(
      CassandraSession session, String keyspace, String migration) {
    CompletionStage<Done> chain = CompletableFuture.completedFuture(Done.getInstance());
    for (String statement : statements(migration, keyspace)) {
      chain = chain.thenCompose(done -> session.executeDDL(statement));
    }
    return chain.thenCompose(
        done ->
            session.executeWrite(
                "INSERT INTO "
                    + keyspace
                    + ".schema_version (version, applied_at) VALUES (?, toTimestamp(now()))",
                migration));
  }

  static List<String> statements(String migration, String keyspace) {
    String text = resource("db/cassandra/" + migration + ".cql").replace("${keyspace}", keyspace);
    String withoutComments =
        Arrays.stream(text.split("\n"))
            .filter(line -> !line.strip().startsWith("--"))
            .reduce("", (all, line) -> all + line + "\n");
    return Arrays.stream(withoutComments.split(";"))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  private static String resource(String path) {
    try (InputStream in = Schema.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing migration " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Production deploy step: applies pending migrations with the node's configuration. Exits 1 with
   * the reason when it cannot (the keyspace must exist: it is created by the operator, with the
   * replication they chose).
   */
  public static void main(String[] args) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "parley-schema",
            NodeConfig.load(Map.of("pekko.actor.provider", "local")));
    String keyspace = system.settings().config().getString("parley.history.keyspace");
    int status = 0;
    try {
      migrate(MessageStore.session(system), system.settings().config(), false)
          .toCompletableFuture()
          .get(5, TimeUnit.MINUTES);
      System.out.println("schema up to date: " + MIGRATIONS);
    } catch (ExecutionException | TimeoutException failed) {
      Throwable cause = failed instanceof ExecutionException ? failed.getCause() : failed;
      System.err.println(
          "schema migration of keyspace '"
              + keyspace
              + "' failed: "
              + cause
              + "\n(the keyspace must exist: create it first, with the replication you need;"
              + " PARLEY_HISTORY_KEYSPACE names it)");
      status = 1;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    System.exit(status);
  }
}
