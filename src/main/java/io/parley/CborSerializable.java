package io.parley;

/**
 * Marker for every message, event and snapshot that crosses the cluster or reaches the journal.
 * Bound to Jackson CBOR in {@code serialization.conf}; Java serialization is off.
 */
public interface CborSerializable {}
