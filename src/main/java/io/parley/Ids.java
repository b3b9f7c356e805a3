package io.parley;

import java.util.regex.Pattern;

/**
 * The one rule for user, device and conversation ids (protocol.md "Identity"). Ids become Redis
 * keys, Kafka keys and Cassandra partition keys, so the alphabet is kept to characters that need no
 * escaping anywhere.
 */
public final class Ids {

  /** The rule in words, for error messages. */
  public static final String RULE = "1 to 64 characters of A-Z a-z 0-9 _ -";

  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private Ids() {}

  public static boolean isValid(String id) {
    return id != null && VALID.matcher(id).matches();
  }
}
