import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../../src/common/errors/domain-error';
import { DistributedLock, LockBusyError } from '../../src/common/lock/distributed-lock';
import { RedisDistributedLock } from '../../src/common/lock/redis-distributed-lock';
import { ReservationFacade } from '../../src/modules/reservation/application/reservation.facade';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, fansWithActiveTokens, startCluster } from '../support/booking';
import { resetQueue } from '../support/queue';
import { TcpProxy } from '../support/tcp-proxy';

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof DomainError ? error.code : `${(error as Error).name}: ${String(error)}`;
  }
}

/** The seat lock itself against real Redis, and what holds do when Redis goes away. */
describe('seat lock (integration)', () => {
  let app: NestFastifyApplication;
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
    redisProxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    redisUrl.hostname = '127.0.0.1';
    // A port outside the ephemeral range, so no outgoing socket takes it while the proxy is cut.
    redisUrl.port = String(await redisProxy.start(20_000 + Math.floor(Math.random() * 10_000)));
    [app] = await startCluster(1, { REDIS_URL: redisUrl.toString() });
    await resetQueue(app);
  });

  afterAll(async () => {
    await app.close();
    await redisProxy.cut();
  });

  describe('RedisDistributedLock', () => {
    let lock: DistributedLock;

    beforeAll(() => {
      lock = new RedisDistributedLock(app.get(Redis));
    });

    it('should refuse a second holder at once, without running its work', async () => {
      let release!: () => void;
      const holding = lock.withLock(
        'test:busy',
        5_000,
        () => new Promise<void>((r) => (release = r)),
      );
      await sleep(20);
      let ranSecond = false;
      const started = Date.now();
      const second = lock.withLock('test:busy', 5_000, () => {
        ranSecond = true;
        return Promise.resolve();
      });
      await expect(second).rejects.toBeInstanceOf(LockBusyError);
      expect(Date.now() - started).toBeLessThan(200);
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
      const redis = app.get(Redis);
      let secondHolds!: () => void;
      let firstDone!: () => void;
      const first = lock.withLock('test:ttl', 100, async () => {
        await sleep(250); // outlives its 100 ms TTL
        await new Promise<void>((r) => (firstDone = r));
      });
      await sleep(150);
      const second = lock.withLock(
        'test:ttl',
        5_000,
        () => new Promise<void>((r) => (secondHolds = r)),
      );
      await sleep(150);
      firstDone();
      await first; // its release must be a no-op: the key is the second holder's now
      await expect(redis.exists('mutex:test:ttl')).resolves.toBe(1);
      await expect(
        lock.withLock('test:ttl', 5_000, () => Promise.resolve(0)),
      ).rejects.toBeInstanceOf(LockBusyError);
      secondHolds();
      await second;
      await expect(redis.exists('mutex:test:ttl')).resolves.toBe(0);
    });
  });

  describe('while Redis is down', () => {
    let redisDown = false;

    afterEach(async () => {
      if (redisDown) await redisProxy.restore();
      redisDown = false;
      await assertBookingInvariants(app);
    });

    it('should keep holds exclusive on the database fence alone, and answer HTTP clients 503', async () => {
      const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 5 });
      const fans = await fansWithActiveTokens(app, 30, concertId);
      const [contested, other] = schedule.seats;
      await redisProxy.cut();
      redisDown = true;
      const facade = app.get(ReservationFacade);

      // The lock fails open: every taker reaches MySQL and the conditional UPDATE decides.
      const results = await Promise.all(
        fans
          .slice(0, 20)
          .map((fan) => outcome(facade.holdSeat({ ...fan, concertId }, schedule.id, contested.id))),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'SEAT_UNAVAILABLE')).toHaveLength(19);
      await expect(
        outcome(facade.holdSeat({ ...fans[25], concertId }, schedule.id, other.id)),
      ).resolves.toBe('ok');
      const rows = await sql(
        app,
        `SELECT seat_id, status FROM reservations WHERE seat_id IN (?) ORDER BY seat_id`,
        [[contested.id, other.id]],
      );
      expect(rows).toEqual([
        { seat_id: contested.id, status: 'HELD' },
        { seat_id: other.id, status: 'HELD' },
      ]);

      // Over HTTP the queue token cannot be checked without Redis: 503, nothing changes.
      const reply = await call(app, 'POST', '/reservations', {
        user: fans[26].userId,
        token: fans[26].token,
        body: { scheduleId: schedule.id, seatId: schedule.seats[2].id },
      });
      expect([reply.status, reply.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);

      await redisProxy.restore();
      redisDown = false;
      let reply2 = reply;
      for (let attempt = 0; attempt < 50 && reply2.status === 503; attempt++) {
        await sleep(200);
        reply2 = await call(app, 'POST', '/reservations', {
          user: fans[26].userId,
          token: fans[26].token,
          body: { scheduleId: schedule.id, seatId: schedule.seats[2].id },
        });
      }
      expect(reply2.status).toBe(201);
    });
  });
});
