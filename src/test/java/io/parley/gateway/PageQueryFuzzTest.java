package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;

/** Any paging query string is a valid page (within the limits) or a clear 400, never a crash. */
class PageQueryFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void anyQueryIsAValidPageOrAReason(FuzzedDataProvider data) {
    Optional<String> after = optional(data);
    Optional<String> before = optional(data);
    Optional<String> limit = optional(data);
    PageQuery.Parsed parsed = PageQuery.parse(after, before, limit);
    if (parsed instanceof PageQuery.Parsed.Valid valid) {
      PageQuery query = valid.query();
      assertTrue(query.limit() >= 1 && query.limit() <= PageQuery.MAX_LIMIT);
      assertTrue(query.backwards() ? query.seq() >= 1 : query.seq() >= 0);
    } else {
      assertTrue(!((PageQuery.Parsed.Invalid) parsed).message().isBlank());
    }
  }

  private static Optional<String> optional(FuzzedDataProvider data) {
    return data.consumeBoolean() ? Optional.of(data.consumeString(24)) : Optional.empty();
  }
}
