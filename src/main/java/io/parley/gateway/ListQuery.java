package io.parley.gateway;

import io.parley.Ids;
import java.util.Optional;

/**
 * The paging parameters of {@code GET /api/conversations}: {@code limit} (1 to 500) and {@code
 * after} (the {@code next} of the page before). Neither means the whole list, as protocol.md has
 * it; anything else is a clear 400.
 */
record ListQuery(String after, int limit) {

  static final int DEFAULT_LIMIT = PageQuery.DEFAULT_LIMIT;
  static final int MAX_LIMIT = PageQuery.MAX_LIMIT;

  /** The whole list, a page of it, or why not. */
  sealed interface Parsed {
    record Whole() implements Parsed {}

    record Paged(ListQuery query) implements Parsed {}

    record Invalid(String message) implements Parsed {}
  }

  static Parsed parse(Optional<String> after, Optional<String> limit) {
    if (after.isEmpty() && limit.isEmpty()) {
      return new Parsed.Whole();
    }
    if (after.isPresent() && !Ids.isValid(after.get())) {
      return new Parsed.Invalid("after must be a conversation id: " + Ids.RULE);
    }
    Long parsedLimit = PageQuery.number(limit.orElse(Integer.toString(DEFAULT_LIMIT)));
    if (parsedLimit == null || parsedLimit < 1 || parsedLimit > MAX_LIMIT) {
      return new Parsed.Invalid("limit must be an integer from 1 to " + MAX_LIMIT);
    }
    return new Parsed.Paged(new ListQuery(after.orElse(""), parsedLimit.intValue()));
  }
}
