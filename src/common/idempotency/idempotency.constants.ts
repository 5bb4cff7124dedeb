/** Request header carrying the client's key, and the header marking a replayed response. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** 1..64 visible ASCII characters (a UUID, a ULID, "order-42-try-1", ...). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,64}$/;

/** How long a completed key is remembered; the contract promises at least 24 h. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/**
 * Life of the Redis "in progress" marker. Long enough to cover any request (the database's lock
 * wait timeout ends a stuck transaction well before), short enough that a crashed instance's
 * marker frees the key soon. Correctness never depends on it: the unique key in MySQL is the fence.
 */
export const IDEMPOTENCY_MARKER_TTL_MS = 30_000;

/**
 * The user id is the hash tag: the client's key may hold braces, and would otherwise choose the
 * Redis Cluster slot (every key `{x}…` on one shard).
 */
export const idempotencyMarkerKey = (userId: string, scope: string, key: string) =>
  `idem:{${userId}}:${scope}:${key}`;

/** Expired rows deleted per statement by the purge job (small batches keep locks short). */
export const IDEMPOTENCY_PURGE_BATCH = 1_000;
/** A purge run's bound: the rest of a backlog waits for the next run (see outbox.constants.ts). */
export const IDEMPOTENCY_PURGE_MAX_BATCHES = 1_000;
export const IDEMPOTENCY_PURGE_RUN_DEADLINE_MS = 5 * 60_000;
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 10 * 60_000;
