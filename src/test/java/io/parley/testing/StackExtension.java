package io.parley.testing;

import io.parley.devstack.ChildService;
import io.parley.devstack.LocalStack;
import io.parley.devstack.StackOptions;
import io.parley.devstack.StackService;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one {@link LocalStack} shared by the whole test run.
 *
 * <p>Use {@code @ExtendWith(StackExtension.class)} and declare a {@code LocalStack} parameter on
 * the constructor, a {@code @BeforeAll} method or a test method. The stack is started on first use
 * and kept in the root store, which closes it when the run ends. Each injection finds every service
 * running (one stopped by an earlier test is started again), so suites do not depend on the order
 * they run in.
 *
 * <p>The system property {@value #SERVICES_PROPERTY} (e.g. {@code redis,kafka}) narrows the
 * services started; all three by default.
 */
public final class StackExtension implements ParameterResolver {

  public static final String SERVICES_PROPERTY = "parley.stack.services";

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(StackExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == LocalStack.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(SharedStack.class, key -> SharedStack.start(), SharedStack.class)
        .get();
  }

  /**
   * The stack, or why it failed to start: remembered so that a broken stack fails every suite at
   * once instead of being started again (minutes each) by every suite.
   */
  private static final class SharedStack implements AutoCloseable {

    private final LocalStack stack;
    private final RuntimeException failure;

    private SharedStack(LocalStack stack, RuntimeException failure) {
      this.stack = stack;
      this.failure = failure;
    }

    static SharedStack start() {
      try {
        LocalStack stack = LocalStack.start(options());
        stack.services().forEach(SharedStack::announce);
        return new SharedStack(stack, null);
      } catch (RuntimeException e) {
        return new SharedStack(null, e);
      }
    }

    /** The stack, every service running: a suite that stopped one and failed breaks no other. */
    LocalStack get() {
      if (failure != null) {
        throw new IllegalStateException("the shared local stack failed to start", failure);
      }
      stack.restartStopped();
      return stack;
    }

    @Override
    public void close() {
      if (stack != null) {
        stack.close();
      }
    }

    private static StackOptions options() {
      StackOptions defaults = StackOptions.defaults();
      String chosen = System.getProperty(SERVICES_PROPERTY, "").trim();
      if (chosen.isEmpty()) {
        return defaults;
      }
      return defaults.only(
          Arrays.stream(chosen.split("[,\\s]+"))
              .map(name -> StackService.valueOf(name.toUpperCase(Locale.ROOT)))
              .toArray(StackService[]::new));
    }

    private static void announce(ChildService service) {
      System.out.printf(
          "local stack: %s listens at %s (pid %d, ready in %d ms, log %s)%n",
          service.name(),
          service.address(),
          service.pid(),
          service.lastStartTime().toMillis(),
          service.logFile());
    }
  }
}
