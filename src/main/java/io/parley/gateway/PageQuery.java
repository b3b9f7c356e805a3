package io.parley.gateway;

import java.util.Optional;

/**
 * The paging parameters of {@code GET /api/conversations/{id}/messages}: {@code afterSeq} or {@code
 * beforeSeq} (not both; neither means from the start) and {@code limit} (1 to 500, default 100).
 * Anything else is a clear 400.
 */
record PageQuery(boolean backwards, long seq, int limit) {

  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 500;

  /** A valid query, or why not. */
  sealed interface Parsed {
    record Valid(PageQuery query) implements Parsed {}

    record Invalid(String message) implements Parsed {}
  }

  static Parsed parse(
      Optional<String> afterSeq, Optional<String> beforeSeq, Optional<String> limit) {
    if (afterSeq.isPresent() && beforeSeq.isPresent()) {
      return new Parsed.Invalid("give afterSeq or beforeSeq, not both");
    }
    Long parsedLimit = number(limit.orElse(Integer.toString(DEFAULT_LIMIT)));
    if (parsedLimit == null || parsedLimit < 1 || parsedLimit > MAX_LIMIT) {
      return new Parsed.Invalid("limit must be an integer from 1 to " + MAX_LIMIT);
    }
    if (beforeSeq.isPresent()) {
      Long before = number(beforeSeq.get());
      return before == null || before < 1
          ? new Parsed.Invalid("beforeSeq must be an integer >= 1")
          : new Parsed.Valid(new PageQuery(true, before, parsedLimit.intValue()));
    }
    Long after = number(afterSeq.orElse("0"));
    return after == null || after < 0
        ? new Parsed.Invalid("afterSeq must be an integer >= 0")
        : new Parsed.Valid(new PageQuery(false, after, parsedLimit.intValue()));
  }

  static Long number(String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException notANumber) {
      return null;
    }
  }
}
