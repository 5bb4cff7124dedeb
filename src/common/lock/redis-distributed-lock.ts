import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { isDependencyUnavailable } from '../errors/dependency-errors';
import { DistributedLock, LockBusyError } from './distributed-lock';

// One warning per outage instead of one per request while Redis is unreachable.
const OUTAGE_LOG_INTERVAL_MS = 10_000;

/**
 * DistributedLock on one Redis with redis-semaphore's Mutex: `SET key id NX PX ttl` to take it and
 * a compare-and-delete script to give it back, so a holder whose TTL ran out can never delete a
 * successor's lock. With a single Redis this is exactly what Redlock does with N = 1; see
 * docs/adr/0004-distributed-lock.md for why not the `redlock` package or RedlockMutex.
 *
 * Redis down: the lock fails open. `fn` runs without the shield because the caller's database
 * fence keeps the outcome exclusive on its own; only contention on MySQL grows.
 */
export class RedisDistributedLock extends DistributedLock {
  private readonly logger = new Logger(RedisDistributedLock.name);
  private lastOutageLog = 0;

  constructor(private readonly redis: Redis) {
    super();
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const mutex = new Mutex(this.redis, key, {
      lockTimeout: ttlMs,
      // One attempt: a busy seat is answered at once, never queued behind the holder.
      acquireAttemptsLimit: 1,
      acquireTimeout: ttlMs,
      retryInterval: 0,
      // No refresh timer: the critical section is one short transaction, and if it outlives the
      // TTL the database fence still decides.
      refreshInterval: 0,
    });

    let acquired: boolean;
    try {
      acquired = await mutex.tryAcquire();
    } catch (error) {
      if (!isDependencyUnavailable(error)) throw error;
      this.logOutage(error);
      return fn();
    }
    if (!acquired) throw new LockBusyError(key);

    try {
      return await fn();
    } finally {
      // The key expires on its own if this fails; a failed release must not fail the request.
      await mutex.release().catch((error: unknown) => this.logOutage(error));
    }
  }

  private logOutage(error: unknown): void {
    const now = Date.now();
    if (now - this.lastOutageLog < OUTAGE_LOG_INTERVAL_MS) return;
    this.lastOutageLog = now;
    this.logger.warn(
      `Redis lock unavailable, continuing on the database fence alone: ${String(error)}`,
    );
  }
}
