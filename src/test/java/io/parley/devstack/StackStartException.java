package io.parley.devstack;

/** A service of the local stack could not be started or did not answer in time. */
public final class StackStartException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public StackStartException(String message) {
    super(message);
  }

  public StackStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
