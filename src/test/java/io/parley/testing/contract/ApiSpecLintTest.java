package io.parley.testing.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.testing.NodeScripts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/api/'s specs pass their own tools' lint ({@code @asyncapi/parser}, {@code @redocly/cli},
 * pinned in src/test/spec-lint), so that {@code mvn -B verify} fails on a spec they refuse. An
 * integration suite: it installs npm packages and runs Node.js.
 */
class ApiSpecLintTest {

  private static final Duration DEADLINE = Duration.ofMinutes(2);
  private static Path lintDir;

  @BeforeAll
  static void install() {
    lintDir = NodeScripts.projectDir().resolve("src/test/spec-lint");
    NodeScripts.install(lintDir, "@redocly/cli");
  }

  @Test
  void bothSpecsPassTheirLinters() {
    NodeScripts.Outcome lint = lint(ApiSpecs.dir());
    assertEquals(0, lint.exitCode(), lint::output);
  }

  @Test
  void anAsyncApiDocumentWithAnUnknownActionFailsTheLint() throws IOException {
    Path broken = brokenCopy(ApiSpecs.ASYNCAPI, "    action: send\n", "    action: shout\n");
    NodeScripts.Outcome lint = lint(broken);
    assertNotEquals(0, lint.exitCode(), lint::output);
    assertTrue(lint.output().contains("asyncapi error"), lint::output);
  }

  @Test
  void anOpenApiDocumentWithADanglingReferenceFailsTheLint() throws IOException {
    Path broken =
        brokenCopy(
            ApiSpecs.OPENAPI,
            "$ref: '#/components/schemas/Conversation'",
            "$ref: '#/components/schemas/Nothing'");
    NodeScripts.Outcome lint = lint(broken);
    assertNotEquals(0, lint.exitCode(), lint::output);
    assertTrue(lint.output().contains("openapi.yaml: exit 1"), lint::output);
  }

  private static NodeScripts.Outcome lint(Path specs) {
    return NodeScripts.run(
        lintDir,
        List.of(
            "node",
            "lint.mjs",
            specs.resolve(ApiSpecs.ASYNCAPI).toString(),
            specs.resolve(ApiSpecs.OPENAPI).toString()),
        DEADLINE);
  }

  /** Both specs in a folder of their own (openapi.yaml refers to asyncapi.yaml beside it). */
  private static Path brokenCopy(String file, String from, String to) throws IOException {
    Path dir = Files.createTempDirectory(NodeScripts.projectDir().resolve("target"), "spec-lint-");
    for (String spec : List.of(ApiSpecs.ASYNCAPI, ApiSpecs.OPENAPI)) {
      Files.copy(ApiSpecs.dir().resolve(spec), dir.resolve(spec));
    }
    String text = Files.readString(dir.resolve(file));
    assertTrue(text.contains(from), () -> file + " no longer has " + from);
    Files.writeString(dir.resolve(file), text.replace(from, to));
    return dir;
  }
}
