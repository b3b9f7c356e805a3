package io.parley;

import java.util.regex.Pattern;

/** Placeholder until the helper's version lands. */
public final class Ids {
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private Ids() {}

  public static boolean isValid(String id) {
    return id != null && VALID.matcher(id).matches();
  }
}
