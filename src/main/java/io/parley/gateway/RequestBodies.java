package io.parley.gateway;

import com.fasterxml.jackson.core.JacksonException;
import io.parley.Json;
import java.util.Optional;

/** REST request bodies: a JSON object of the expected shape, or nothing (then a 400). */
final class RequestBodies {
  private RequestBodies() {}

  static <T> Optional<T> read(String text, Class<T> type) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(Json.mapper().readValue(text, type));
    } catch (JacksonException malformed) {
      return Optional.empty();
    }
  }
}
