/**
 * Every instant that enters or leaves this package is a number of milliseconds since the Unix epoch:
 * it is what Redis sorted-set scores and queue due times use, compares with `<`, and cannot carry a
 * hidden zone.
 */
export type EpochMs = number;
