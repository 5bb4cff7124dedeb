import { DistributedLock } from './distributed-lock';

/**
 * No lock at all: `fn` just runs. Selected with RESERVATION_SEAT_LOCK=off so the concurrency tests
 * can prove that the database fence alone keeps every seat exclusive.
 */
export class NoopDistributedLock extends DistributedLock {
  withLock<T>(_key: string, _ttlMs: number, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
}
