/** Redis key of the per-seat lock (the client adds REDIS_KEY_PREFIX; the library adds "mutex:"). */
export const seatLockKey = (seatId: number) => `lock:seat:${seatId}`;

/**
 * Life of the seat lock. It only covers the hold's short transaction (a few ms); the TTL merely
 * bounds how long a crashed holder can keep others out. If a transaction outlives it, the
 * database fence still decides.
 */
export const SEAT_LOCK_TTL_MS = 5_000;

/**
 * Longest a hold waits for a row lock. A seat row locked for longer is held by a transaction that
 * has stalled (a paused instance keeps its locks): the fan hears 409 in about a second instead of
 * waiting for it (ADR 0013).
 */
export const HOLD_LOCK_WAIT_SECONDS = 1;

/** The release job runs every second so an expired hold is freed well within the 5 s promise. */
export const RELEASE_INTERVAL_MS = 1_000;
/** Holds expired per transaction: small enough to keep row locks short. */
export const RELEASE_BATCH_SIZE = 200;
/** Batches per run, so one run is bounded even after a long outage. */
export const RELEASE_MAX_BATCHES_PER_RUN = 25;
/**
 * A run's own deadline (a job has no request's): a stalled MySQL fails the run instead of
 * hanging it, which would keep every later tick of this instance waiting behind it.
 */
export const RELEASE_RUN_DEADLINE_MS = 10_000;
