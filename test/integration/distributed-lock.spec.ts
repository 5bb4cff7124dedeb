import { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { DistributedLock, LockBusyError } from '../../src/common/lock/distributed-lock';
import { RedisDistributedLock } from '../../src/common/lock/redis-distributed-lock';
import type { RedisClient } from '../../src/common/redis/redis-client';
import { eventually } from '../support/eventually';
import { startModules } from '../support/modules';

/** The seat lock itself against the real Redis (what holds do without it: reservation-seat-lock). */
describe('RedisDistributedLock (integration)', () => {
  let context: INestApplicationContext;
  let redis: RedisClient;
  let lock: DistributedLock;

  beforeAll(async () => {
    context = await startModules([]);
    redis = context.get(Redis);
    lock = new RedisDistributedLock(context.get(Redis));
  });

  afterAll(async () => {
    await context.close();
  });

  it('should refuse a second holder at once, without running its work', async () => {
    let release!: () => void;
    const holding = lock.withLock(
      'test:busy',
      5_000,
      () => new Promise<void>((r) => (release = r)),
    );
    await eventually(async () => expect(await redis.exists('mutex:test:busy')).toBe(1));
    let ranSecond = false;
    const started = Date.now();
    const second = lock.withLock('test:busy', 5_000, () => {
      ranSecond = true;
      return Promise.resolve();
    });
    await expect(second).rejects.toBeInstanceOf(LockBusyError);
    // One round trip, not a wait for the holder's 5 s TTL.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(ranSecond).toBe(false);
    release();
    await holding;
    // Released on the way out: the next holder gets it.
    await expect(lock.withLock('test:busy', 5_000, () => Promise.resolve('again'))).resolves.toBe(
      'again',
    );
  });

  it('should release the lock when the work throws', async () => {
    await expect(
      lock.withLock('test:throws', 5_000, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    await expect(lock.withLock('test:throws', 5_000, () => Promise.resolve(1))).resolves.toBe(1);
  });

  it("should not delete a successor's lock when the first holder outlived its TTL", async () => {
    let secondHolds!: () => void;
    let firstDone!: () => void;
    const first = lock.withLock('test:ttl', 5_000, () => new Promise<void>((r) => (firstDone = r)));
    await eventually(async () => expect(await redis.exists('mutex:test:ttl')).toBe(1));
    // The first holder outlives its TTL (a GC pause, a slow query): its key runs out now.
    await redis.pexpire('mutex:test:ttl', 1);
    await eventually(async () => expect(await redis.exists('mutex:test:ttl')).toBe(0));
    let secondHolding = false;
    const second = lock.withLock('test:ttl', 5_000, () => {
      secondHolding = true;
      return new Promise<void>((r) => (secondHolds = r));
    });
    await eventually(() => Promise.resolve(expect(secondHolding).toBe(true)));
    firstDone();
    await first; // its release must be a no-op: the key is the second holder's now
    await expect(redis.exists('mutex:test:ttl')).resolves.toBe(1);
    await expect(lock.withLock('test:ttl', 5_000, () => Promise.resolve(0))).rejects.toBeInstanceOf(
      LockBusyError,
    );
    secondHolds();
    await second;
    await expect(redis.exists('mutex:test:ttl')).resolves.toBe(0);
  });
});
