/**
 * Redis keys of the periodic audit (the client adds REDIS_KEY_PREFIX). One hash tag: the result
 * is written in one MULTI and read in one MGET, which a Redis Cluster allows within one slot only.
 */
export const AUDIT_KEYS = {
  /** The number of the latest period some instance claimed: the once-per-period fence. */
  claim: '{audit}:claim',
  /** The latest periodic audit, as JSON. */
  latest: '{audit}:latest',
  /** When (epoch ms) the latest audit that finished every rule was taken. */
  lastCompleteAt: '{audit}:last-complete-at',
} as const;

/**
 * How long a published result outlives the job: long enough to ride out a pause of the job,
 * short enough that an audit switched off everywhere stops being exported (and alerted as absent).
 */
export const AUDIT_RESULT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Each instance ticks a few times per period so the period's run starts soon after the period
 * does, whatever phase the instance's timer has; a tick that finds the period claimed costs one
 * Redis script call.
 */
export function auditTickIntervalMs(intervalSeconds: number): number {
  return Math.max(1000, Math.min(15_000, Math.floor((intervalSeconds * 1000) / 4)));
}
