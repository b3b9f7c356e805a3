package io.parley.testing.contract;

/**
 * Something the server sent breaks docs/api/. Its own type so that code which retries on an
 * ordinary {@link AssertionError} (a refused connection, say) can let this one through.
 */
public final class ContractViolation extends AssertionError {
  public ContractViolation(String message) {
    super(message);
  }
}
