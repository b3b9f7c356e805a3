package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parley.devstack.LocalStack;
import io.parley.testing.NodeScripts;
import io.parley.testing.StackExtension;
import io.parley.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The demo page in a real browser: {@code src/test/browser/demo-chat.mjs} drives headless Debian
 * Chromium through playwright-core, alice on node 1 and bob on node 2 of a real cluster. Chromium
 * is a prerequisite like Java: without it this fails, saying how to install it.
 */
@ExtendWith({StackExtension.class, LogCapturingExtension.class})
class DemoPageBrowserTest {

  /**
   * What the script checks beyond the base chat flow; each needs the server side of the feature
   * (demo-chat.mjs {@code --features=presence,typing,receipts}).
   */
  private static final List<String> FEATURES = List.of("presence", "typing", "receipts");

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  // The script has its own 160 s watchdog, so a hang normally ends with its screenshots first.
  private static final Duration SCRIPT_DEADLINE = Duration.ofMinutes(3);

  private static TestCluster cluster;

  @BeforeAll
  static void start(LocalStack stack) {
    cluster = TestCluster.start(stack, 2, Map.of("parley.demo.dev-tokens", "on"));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) { // null when the cluster failed to start: report that, not an NPE
      cluster.close();
    }
  }

  @Test
  void aliceAndBobChatAcrossTwoNodesInChromium() {
    assertTrue(
        Files.isExecutable(CHROMIUM),
        "browser tests need Debian's Chromium at "
            + CHROMIUM
            + ": install it with `apt-get install -y chromium` (.ci/run does)");
    Path browserDir = NodeScripts.projectDir().resolve("src/test/browser");
    NodeScripts.install(browserDir, "playwright-core");

    List<String> command = new ArrayList<>(List.of("node", "demo-chat.mjs", url(0), url(1)));
    command.add("--features=" + String.join(",", FEATURES));
    command.add("--out=" + NodeScripts.projectDir().resolve("target/browser"));
    NodeScripts.Outcome chat = NodeScripts.run(browserDir, command, SCRIPT_DEADLINE);

    System.out.println(chat.output());
    assertEquals(0, chat.exitCode(), () -> "demo-chat.mjs failed:\n" + chat.output());
  }

  private static String url(int node) {
    return "http://127.0.0.1:" + cluster.httpPort(node);
  }
}
