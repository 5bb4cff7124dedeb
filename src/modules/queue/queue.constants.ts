/**
 * Every Redis key of the waiting queue (before the client's REDIS_KEY_PREFIX) and the fixed
 * durations. Key layout and scripts are described in docs/queue.md.
 */
export const QUEUE_KEYS = {
  /** STRING counter: the join sequence number, so FIFO order never depends on clock ties. */
  sequence: 'queue:seq',
  /** ZSET token → join sequence. Position = ZRANK + 1. */
  waiting: 'queue:waiting',
  /** ZSET token → last poll (Redis time, ms) of each WAITING token; drives the idle drop. */
  seen: 'queue:seen',
  /** ZSET token → expiry (Redis time, ms) of each ACTIVE token. */
  active: 'queue:active',
  /** ZSET token → admission time (ms) for the last ADMISSION_WINDOW_SECONDS: rate and per-second cap. */
  admitted: 'queue:admitted',
  /** HASH token → userId of every live (WAITING or ACTIVE) token. */
  owners: 'queue:owners',
  /** HASH userId → token: one live token per user. */
  users: 'queue:users',
  /** HASH token → concertId of every live token: the concert it was issued for. */
  concerts: 'queue:concerts',
  /** STRING per token, with a TTL: who owned a token that a payment retired. */
  retired: (token: string) => `queue:retired:${token}`,
} as const;

/** Admissions are measured over this window to estimate waiting times. */
export const ADMISSION_WINDOW_SECONDS = 60;

/** A retired token's owner is remembered a little over the 24 h the idempotency keys live. */
export const RETIRED_TOKEN_RETENTION_SECONDS = 25 * 60 * 60;

/** Expiry and idle-drop work in bounded batches so one script never blocks Redis for long. */
export const CLEANUP_BATCH_SIZE = 1000;
export const CLEANUP_MAX_BATCHES_PER_RUN = 20;

/**
 * The admission job runs twice a second so every Redis-clock second sees at least one run (the
 * per-second cap is enforced per Redis second, not by the schedule).
 */
export const ADMISSION_INTERVAL_MS = 500;

/** Longest hint we give a waiting client between polls. */
export const MAX_POLL_AFTER_SECONDS = 30;
