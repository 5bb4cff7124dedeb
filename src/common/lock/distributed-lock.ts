/**
 * A mutual-exclusion lock shared by every instance. It is a shield, not a guarantee: a holder
 * may pause past the TTL (GC, a slow query) and a second holder may start, so anything that must
 * never happen twice is fenced in the database as well (see docs/adr/0004-distributed-lock.md).
 */
export abstract class DistributedLock {
  /**
   * Runs `fn` while holding `key`, for at most `ttlMs`, then releases the key. Never waits and
   * never retries: when another holder has the key it rejects with LockBusyError without running
   * `fn`. Order for callers: lock → transaction → commit → unlock, so `fn` opens the transaction.
   */
  abstract withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
}

/** Someone else holds the key right now; the caller decides what that means for its client. */
export class LockBusyError extends Error {
  constructor(readonly key: string) {
    super(`Lock ${key} is held by another request`);
    this.name = 'LockBusyError';
  }
}
