package io.parley.gateway;

/** What {@link FrameCodec#decode} made of a text frame: a valid frame, or the error to answer. */
public sealed interface DecodeResult {

  record Decoded(ClientFrame frame) implements DecodeResult {}

  record Invalid(ServerFrame.Error error) implements DecodeResult {}
}
