package io.parley.gateway;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The {@code code} of an {@code error} frame (protocol.md). */
public enum ErrorCode {
  BAD_REQUEST,
  UNAUTHORIZED,
  FORBIDDEN,
  NOT_FOUND,
  TOO_LARGE,
  RATE_LIMITED,
  /** Retryable: the client should try again later. */
  UNAVAILABLE;

  /** The code as clients see it, e.g. {@code bad_request}. */
  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
