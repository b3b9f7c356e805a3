package io.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcLogTest {

  @TempDir Path dir;

  @Test
  void countsOnlyThePausesLoggedAfterTheMark() throws Exception {
    Path file = dir.resolve("node-gc.log");
    Files.writeString(
        file,
        "[0.010s] Using G1\n"
            + "[5.100s] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->4M(128M) 90.000ms\n");
    GcLog log = new GcLog(file);
    log.mark();
    Files.writeString(
        file,
        "[6.200s] GC(1) Pause Young (Normal) (G1 Evacuation Pause) 30M->6M(128M) 3.500ms\n"
            + "[6.300s] GC(2) Concurrent Mark Cycle 45.123ms\n"
            + "[6.400s] GC(2) Pause Remark 40M->40M(128M) 1.250ms\n"
            + "[7.000s] GC(3) Pause Full (System.gc()) 50M->10M(128M) 12ms\n",
        StandardOpenOption.APPEND);

    assertEquals(new GcLog.Pauses(3, 16.75, 12.0), log.pausesSinceMark());
  }

  @Test
  void aMissingLogHasNoFigures() throws Exception {
    GcLog log = new GcLog(dir.resolve("absent.log"));
    log.mark();
    GcLog.Pauses pauses = log.pausesSinceMark();
    assertEquals(0, pauses.count());
    assertEquals(Double.NaN, pauses.totalMillis());
  }
}
