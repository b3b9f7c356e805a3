package io.parley;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.parley.gateway.ErrorCode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Package dependencies point one way, from the edge down to the stores: a capability may use the
 * ones below it and never one above. The order is the send path's: a gateway asks a conversation,
 * which routes and publishes, which use the registry; {@code ops}, {@code auth} and the shared
 * records ({@code io.parley} itself) are leaves.
 */
class ArchitectureTest {

  /** Top first. A layer may depend on any layer after it, never on one before it. */
  private static final String[][] LAYERS = {
    {"app", "io.parley.app.."},
    {"gateway", "io.parley.gateway.."},
    {"history", "io.parley.history.."},
    {"conversation", "io.parley.conversation.."},
    {"presence", "io.parley.presence.."},
    {"routing", "io.parley.routing.."},
    {"pipeline", "io.parley.pipeline.."},
    {"registry", "io.parley.registry.."},
    {"auth", "io.parley.auth.."},
    {"ops", "io.parley.ops.."},
    {"shared", "io.parley"},
  };

  private static JavaClasses production;

  @BeforeAll
  static void importProductionClasses() {
    production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.parley");
  }

  @Test
  void packagesAreFreeOfCycles() {
    slices().matching("io.parley.(*)..").should().beFreeOfCycles().check(production);
  }

  @Test
  void noPackageImportsOneAboveIt() {
    layersTopDown().check(production);
  }

  @Test
  void theLayerRuleFailsOnAnUpwardImport() {
    // A test of the test: a class of the shared package (this one's) that reaches up.
    JavaClasses upward = new ClassFileImporter().importClasses(UpwardImport.class, ErrorCode.class);
    assertThrows(AssertionError.class, () -> layersTopDown().check(upward));
  }

  /** Each layer may be reached only from the layers above it. */
  private static ArchRule layersTopDown() {
    var rule = layeredArchitecture().consideringOnlyDependenciesInLayers();
    for (String[] layer : LAYERS) {
      rule = rule.layer(layer[0]).definedBy(layer[1]);
    }
    rule = rule.whereLayer(LAYERS[0][0]).mayNotBeAccessedByAnyLayer();
    for (int i = 1; i < LAYERS.length; i++) {
      String[] above = new String[i];
      for (int j = 0; j < i; j++) {
        above[j] = LAYERS[j][0];
      }
      rule = rule.whereLayer(LAYERS[i][0]).mayOnlyBeAccessedByLayers(above);
    }
    return rule;
  }

  /** A shared class that knows the gateway's error codes: what the rule must refuse. */
  static final class UpwardImport {
    int codes() {
      return ErrorCode.values().length;
    }
  }
}
