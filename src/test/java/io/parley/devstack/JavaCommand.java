package io.parley.devstack;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of a guarded child JVM: {@link ChildGuard} first, then the real main class. */
final class JavaCommand {

  private JavaCommand() {}

  static List<String> of(
      Path guardFolder,
      List<String> jvmArgs,
      List<Path> classpath,
      String mainClass,
      List<String> args) {
    List<String> command = new ArrayList<>();
    // The same JDK as ours: it is the one we know the module flags work with.
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(guardFolder + File.pathSeparator + StackClasspath.join(classpath));
    command.add(GuardClasspath.MAIN_CLASS);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }
}
