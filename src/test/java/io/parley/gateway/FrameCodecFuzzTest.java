package io.parley.gateway;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Whatever text a client sends, the decoder answers a frame or an error with a code, and never
 * throws or hangs: {@code mvn verify} replays the inputs found so far and then fuzzes for a while.
 */
class FrameCodecFuzzTest {

  private static final FrameCodec CODEC = new FrameCodec();

  /** Raw bytes, so the seed inputs (FrameCodecFuzzTestInputs/) are plain frames. */
  @FuzzTest(maxDuration = "20s")
  void everyTextFrameGetsAFrameOrAnError(byte[] input) {
    DecodeResult result = CODEC.decode(new String(input, StandardCharsets.UTF_8));
    if (result instanceof DecodeResult.Invalid invalid) {
      assertNotNull(invalid.error().code());
      assertTrue(CODEC.encode(invalid.error()).startsWith("{\"type\":\"error\""));
    } else {
      assertNotNull(((DecodeResult.Decoded) result).frame().type());
    }
  }
}
