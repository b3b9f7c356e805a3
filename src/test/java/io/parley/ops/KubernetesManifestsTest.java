package io.parley.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The k8s/ manifests parse and agree with the code: ports, probe paths, RBAC, env names. */
class KubernetesManifestsTest {

  private static final Path K8S = Path.of(System.getProperty("parley.project-dir", "."), "k8s");
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final List<JsonNode> RESOURCES = new ArrayList<>();
  private static final Config DEFAULTS =
      NodeConfig.load(Map.of("chat.auth.jwt-secret", "x".repeat(32)));

  @BeforeAll
  static void parse() throws IOException {
    JsonNode kustomization = YAML.readTree(K8S.resolve("kustomization.yaml").toFile());
    for (JsonNode file : kustomization.path("resources")) {
      try (var parser = new YAMLFactory().createParser(K8S.resolve(file.asText()).toFile())) {
        YAML.readValues(parser, JsonNode.class).forEachRemaining(RESOURCES::add);
      }
    }
  }

  private static JsonNode only(String kind) {
    List<JsonNode> found =
        RESOURCES.stream().filter(r -> r.path("kind").asText().equals(kind)).toList();
    assertEquals(1, found.size(), "one " + kind);
    return found.get(0);
  }

  private static JsonNode container() {
    return only("Deployment").at("/spec/template/spec/containers/0");
  }

  private static int containerPort(String name) {
    return stream(container().path("ports"))
        .filter(port -> port.path("name").asText().equals(name))
        .findFirst()
        .orElseThrow()
        .path("containerPort")
        .asInt();
  }

  private static Stream<JsonNode> stream(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false);
  }

  @Test
  void everyKindAnOperatorNeedsIsThere() {
    for (String kind :
        List.of(
            "Namespace",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "ConfigMap",
            "Secret",
            "Deployment",
            "Service",
            "PodDisruptionBudget")) {
      only(kind);
    }
  }

  @Test
  void portsAndProbesMatchTheConfiguration() {
    assertEquals(DEFAULTS.getInt("parley.http.port"), containerPort("http"));
    assertEquals(DEFAULTS.getInt("pekko.remote.artery.canonical.port"), containerPort("remoting"));
    assertEquals(DEFAULTS.getInt("pekko.management.http.port"), containerPort("management"));

    JsonNode readiness = container().path("readinessProbe").path("httpGet");
    assertEquals("/ready", readiness.path("path").asText());
    assertEquals("management", readiness.path("port").asText());
    JsonNode liveness = container().path("livenessProbe").path("httpGet");
    assertEquals("/alive", liveness.path("path").asText());
    assertEquals("management", liveness.path("port").asText());
    assertTrue(
        DEFAULTS.hasPath("pekko.management.health-checks.readiness-checks.parley-dependencies"),
        "the readiness probe includes Redis and Kafka");

    assertEquals("http", only("Service").at("/spec/ports/0/targetPort").asText());
    assertEquals("app=%s", DEFAULTS.getString("pekko.discovery.kubernetes-api.pod-label-selector"));
    assertEquals(
        "parley",
        only("Deployment").at("/spec/template/metadata/labels/app").asText(),
        "bootstrap finds pods by app=<service-name>");
  }

  @Test
  void discoveryMayListAndWatchPodsWithTheDeploymentsAccount() {
    JsonNode rule = only("Role").at("/rules/0");
    assertEquals("pods", rule.at("/resources/0").asText());
    Set<String> verbs = new HashSet<>();
    rule.path("verbs").forEach(verb -> verbs.add(verb.asText()));
    assertTrue(verbs.containsAll(Set.of("get", "list", "watch")), verbs::toString);
    String account = only("Deployment").at("/spec/template/spec/serviceAccountName").asText();
    assertEquals(account, only("RoleBinding").at("/subjects/0/name").asText());
    assertEquals(only("Role").at("/metadata/name"), only("RoleBinding").at("/roleRef/name"));
  }

  @Test
  void everyEnvironmentVariableIsOneTheConfigurationReads() throws IOException {
    Set<String> read = environmentNamesReadByConfig();
    List<String> given = new ArrayList<>();
    only("ConfigMap").path("data").fieldNames().forEachRemaining(given::add);
    stream(container().path("env")).map(env -> env.path("name").asText()).forEach(given::add);
    given.remove("JAVA_TOOL_OPTIONS"); // read by the JVM itself
    for (String name : given) {
      assertTrue(read.contains(name), name + " is set in k8s/ but no configuration reads it");
    }
    assertTrue(given.contains("CHAT_JWT_SECRET"));
    assertEquals(
        "parley-secrets",
        stream(container().path("env"))
            .filter(e -> e.path("name").asText().equals("CHAT_JWT_SECRET"))
            .findFirst()
            .orElseThrow()
            .at("/valueFrom/secretKeyRef/name")
            .asText());
  }

  @Test
  void drainingFitsInTheGracePeriodAndTheJvmFitsItsLimits() {
    JsonNode pod = only("Deployment").at("/spec/template/spec");
    assertTrue(pod.path("terminationGracePeriodSeconds").asInt() >= 30);
    JsonNode resources = container().path("resources");
    assertTrue(
        resources.at("/limits/memory").isTextual() && resources.at("/requests/cpu").isTextual());
    assertTrue(
        stream(container().path("env"))
            .anyMatch(e -> e.path("value").asText().contains("MaxRAMPercentage")));
    assertEquals(1, only("PodDisruptionBudget").at("/spec/maxUnavailable").asInt());
  }

  private static Set<String> environmentNamesReadByConfig() throws IOException {
    // HOCON's ${?NAME} in the .conf files, logback's ${NAME:-default} in logback.xml.
    Pattern optionalEnv = Pattern.compile("\\$\\{\\??([A-Z][A-Z0-9_]+)(:-[^}]*)?}");
    Set<String> names = new HashSet<>();
    try (Stream<Path> files =
        Files.list(Path.of(System.getProperty("parley.project-dir", "."), "src/main/resources"))) {
      for (Path conf :
          files.filter(f -> f.toString().matches(".*(\\.conf|logback\\.xml)$")).toList()) {
        Matcher matcher = optionalEnv.matcher(Files.readString(conf));
        while (matcher.find()) {
          names.add(matcher.group(1));
        }
      }
    }
    return names;
  }

  @Test
  void theSchemaJobRunsTheMigrationFromTheNodesImageWithTheirConfiguration() throws Exception {
    List<JsonNode> migrate = new ArrayList<>();
    Path dir = K8S.resolve("migrate");
    for (JsonNode file :
        YAML.readTree(dir.resolve("kustomization.yaml").toFile()).path("resources")) {
      migrate.add(YAML.readTree(dir.resolve(file.asText()).toFile()));
    }
    JsonNode job =
        migrate.stream()
            .filter(r -> r.path("kind").asText().equals("Job"))
            .findFirst()
            .orElseThrow();
    JsonNode pod = job.at("/spec/template/spec");
    JsonNode schema = pod.path("containers").get(0);
    assertEquals(container().path("image"), schema.path("image"), "the nodes' image");
    assertEquals(
        only("ConfigMap").at("/metadata/name"),
        schema.at("/envFrom/0/configMapRef/name"),
        "the nodes' configuration");
    assertEquals("Never", pod.path("restartPolicy").asText());
    List<String> command = stream(schema.path("command")).map(JsonNode::asText).toList();
    assertEquals(List.of("java", "-cp", "/app/lib/*"), command.subList(0, 3));
    assertRunnable(command.get(3));
  }

  @Test
  void theImageStartsTheNodeFromTheJarsThePackageCopies() throws Exception {
    String dockerfile = Files.readString(K8S.resolveSibling("Dockerfile"));
    Matcher entrypoint =
        Pattern.compile("ENTRYPOINT \\[\"java\", \"-cp\", \"([^\"]+)\", \"([^\"]+)\"\\]")
            .matcher(dockerfile);
    assertTrue(entrypoint.find(), "an exec-form java ENTRYPOINT:\n" + dockerfile);
    assertEquals("/app/lib/*", entrypoint.group(1));
    assertRunnable(entrypoint.group(2));
    assertTrue(dockerfile.contains("COPY target/lib/ /app/lib/"), "the runtime jars");
    String pom = Files.readString(K8S.resolveSibling("pom.xml"));
    assertTrue(
        pom.contains("<outputDirectory>${project.build.directory}/lib</outputDirectory>"),
        "the package step copies the runtime jars to target/lib");
    assertTrue(
        container().path("command").isMissingNode(), "the Deployment runs the image's entrypoint");
  }

  private static void assertRunnable(String mainClass) throws Exception {
    Method main = Class.forName(mainClass).getMethod("main", String[].class);
    assertTrue(Modifier.isStatic(main.getModifiers()), mainClass + ".main is static");
  }
}
