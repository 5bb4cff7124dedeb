/**
 * Cross-instance news about rooms: the instance that admits fans is usually not the one holding
 * their event streams. A lost signal only delays an event until the streams' next tick.
 */
export abstract class RoomSignals {
  /** Tells every instance that these rooms just admitted someone. Never throws. */
  abstract announceAdmissions(concertIds: number[]): Promise<void>;
  /** Calls `listener` with the room of every announcement; returns the unsubscribe. */
  abstract onAdmissions(listener: (concertId: number) => void): Promise<() => void>;
}
