package io.parley.gateway;

/**
 * Why a client frame was refused. Thrown and caught inside {@link FrameCodec} only, so that each
 * field check can stop decoding in one line; it never escapes the codec.
 */
final class FrameRejection extends RuntimeException {

  private final ErrorCode code;

  FrameRejection(ErrorCode code, String message) {
    // No stack trace: this is an answer to a client, not a fault in the server.
    super(message, null, false, false);
    this.code = code;
  }

  static FrameRejection badRequest(String message) {
    return new FrameRejection(ErrorCode.BAD_REQUEST, message);
  }

  ServerFrame.Error toError(String ref) {
    return new ServerFrame.Error(code, getMessage(), ref);
  }
}
