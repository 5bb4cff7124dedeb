/**
 * Every Redis key of the waiting rooms (before the client's REDIS_KEY_PREFIX) and the fixed
 * durations. Key layout and scripts are described in docs/queue.md.
 *
 * All keys of one room share the hash tag `{room:<concertId>}`: on a Redis Cluster every script
 * of a room runs on one slot, and different rooms spread over the shards.
 */
export function roomKeys(concertId: number) {
  const tag = `{room:${concertId}}`;
  return {
    /** STRING counter: the join sequence number, so FIFO order never depends on clock ties. */
    sequence: `${tag}:seq`,
    /** ZSET token → place in line (a sequence number). Position = ZRANK + 1. */
    waiting: `${tag}:waiting`,
    /** ZSET token → random sort key: joins of a RANDOM_AT_START room before its start, unranked. */
    preQueue: `${tag}:prequeue`,
    /** ZSET token → last poll (Redis time, ms) of each WAITING token; drives the idle drop. */
    seen: `${tag}:seen`,
    /** ZSET token → expiry (Redis time, ms) of each ACTIVE token. */
    active: `${tag}:active`,
    /** ZSET token → admission time (ms) for the last ADMISSION_WINDOW_SECONDS. */
    admitted: `${tag}:admitted`,
    /** HASH token → userId of every live (WAITING or ACTIVE) token. */
    owners: `${tag}:owners`,
    /** HASH userId → token: one live token per user in this room. */
    users: `${tag}:users`,
    /** STRING `<startMs>:<count>`: the pre-queue was shuffled for that start (exactly once). */
    started: `${tag}:started`,
    /** STRING per token, with a TTL: who owned a token that a payment retired. */
    retired: (token: string) => `${tag}:retired:${token}`,
  };
}

export type RoomKeys = ReturnType<typeof roomKeys>;

/** ZSET concertId → last join (ms): the rooms the admission job visits. */
export const ROOM_REGISTRY_KEY = 'queue:rooms';

/** Pub/sub channel (prefixed by hand: ioredis does not prefix channels) announcing admissions. */
export const ROOM_EVENTS_CHANNEL = 'queue:room-events';

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

/**
 * A room leaves the registry only once it is empty and nobody joined it for this long, which
 * keeps a join racing the removal (or an instance clock running behind) from orphaning a room.
 */
export const ROOM_REGISTRY_IDLE_MS = 60 * 60 * 1000;

/** Longest hint we give a client between polls (the contract's bound). */
export const MAX_POLL_AFTER_SECONDS = 60;

/** Room settings are re-read this often on every instance (a change is in force within ~1 s). */
export const SETTINGS_REFRESH_INTERVAL_MS = 500;
/** Rooms whose settings one instance keeps in memory (the least recently used go first). */
export const SETTINGS_CACHE_MAX_ROOMS = 10_000;

/** Event streams: how often each room's streams are polled (one script call per batch). */
export const STREAM_TICK_MS = 1000;
export const STREAM_BATCH_SIZE = 500;
/** A position change is pushed at most this often per stream. */
export const STREAM_MIN_STATUS_INTERVAL_MS = 1000;
/** A quiet stream still gets a status this often: under the contract's 15 s with a tick to spare. */
export const STREAM_HEARTBEAT_MS = 14_000;
/** Retry-After of a 503 for a stream past the instance's bound: poll meanwhile. */
export const STREAM_RETRY_AFTER_SECONDS = 5;
