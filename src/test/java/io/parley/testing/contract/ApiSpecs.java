package io.parley.testing.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.dialect.Dialects;
import io.parley.devstack.StackOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The two specs of docs/api/, read from the project's folder, and schemas out of them. The files
 * are served to the validator under a base IRI of their own ({@value #BASE}, never fetched), so
 * that openapi.yaml's {@code ./asyncapi.yaml#…} references resolve to the file beside it.
 */
final class ApiSpecs {

  static final String BASE = "https://parley.invalid/api/";
  static final String ASYNCAPI = "asyncapi.yaml";
  static final String OPENAPI = "openapi.yaml";

  private ApiSpecs() {}

  static Path dir() {
    return Path.of(
            System.getProperty(StackOptions.PROJECT_DIR_PROPERTY, System.getProperty("user.dir")))
        .toAbsolutePath()
        .resolve("docs/api");
  }

  static JsonNode document(String file) {
    try {
      return new YAMLMapper().readTree(dir().resolve(file).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read docs/api/" + file, e);
    }
  }

  /** AsyncAPI schemas are JSON Schema draft 07 with extensions that assert nothing. */
  static SchemaRegistry asyncApiRegistry() {
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7, ApiSpecs::configure);
  }

  /** OpenAPI 3.1 schemas are JSON Schema 2020-12 in the OpenAPI dialect. */
  static SchemaRegistry openApiRegistry() {
    return SchemaRegistry.withDialect(Dialects.getOpenApi31(), ApiSpecs::configure);
  }

  /** The schema at {@code pointer} (a JSON pointer fragment, "#/…") of one of the files. */
  static Schema schema(SchemaRegistry registry, String file, String pointer) {
    Schema schema = registry.getSchema(SchemaLocation.of(BASE + file + pointer));
    // Built now, once: validation then only reads it, from any thread.
    schema.initializeValidators();
    return schema;
  }

  static String describe(List<Error> errors) {
    return errors.stream().map(Error::toString).collect(Collectors.joining("; "));
  }

  private static void configure(SchemaRegistry.Builder builder) {
    // Formats (date-time, uuid) assert, as the protocol promises them.
    builder.schemaRegistryConfig(
        SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build());
    builder.resourceLoaders(loaders -> loaders.resources(ApiSpecs::read));
  }

  /** The text of a file of docs/api/ named by its IRI; null (not ours) for any other IRI. */
  private static String read(String iri) {
    if (!iri.startsWith(BASE)) {
      return null;
    }
    try {
      return Files.readString(dir().resolve(iri.substring(BASE.length())), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + iri, e);
    }
  }
}
