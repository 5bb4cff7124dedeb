import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ReservationFacade } from '../../src/modules/reservation/application/reservation.facade';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { codeOf, expectProblem } from '../support/assertions';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, fansWithActiveTokens, startCluster } from '../support/booking';
import { eventually } from '../support/eventually';
import { resetQueue } from '../support/queue';
import { onRedisCluster } from '../support/redis-topology';
import { startRedisProxy, TcpProxy } from '../support/tcp-proxy';

/** What holds do when the seat lock's Redis goes away (the lock itself: distributed-lock.spec). */
describe('seat lock (e2e)', () => {
  let app: NestFastifyApplication;
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    // A port outside the ephemeral range, so no outgoing socket takes it while the proxy is cut.
    const redis = await startRedisProxy(20_000 + Math.floor(Math.random() * 10_000));
    redisProxy = redis.proxy;
    [app] = await startCluster(1, { REDIS_URL: redis.url });
    await resetQueue(app);
  });

  afterAll(async () => {
    await app.close();
    await redisProxy.cut();
  });

  // The outage is a cut proxy in front of REDIS_URL; on the cluster (whose clients follow the
  // nodes' own addresses) the app does not use it, and the cluster is shared by the whole run.
  (onRedisCluster() ? describe.skip : describe)('while Redis is down', () => {
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
          .map((fan) => codeOf(facade.holdSeat({ ...fan, concertId }, schedule.id, contested.id))),
      );
      expect(results.filter((r) => r === 'resolved')).toHaveLength(1);
      expect(results.filter((r) => r === 'SEAT_UNAVAILABLE')).toHaveLength(19);
      await expect(
        codeOf(facade.holdSeat({ ...fans[25], concertId }, schedule.id, other.id)),
      ).resolves.toBe('resolved');
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
      expectProblem(reply, 503, 'SERVICE_UNAVAILABLE');

      await redisProxy.restore();
      redisDown = false;
      // The client reconnects on its own (retry strategy up to 2 s apart).
      await eventually(
        async () => {
          const again = await call(app, 'POST', '/reservations', {
            user: fans[26].userId,
            token: fans[26].token,
            body: { scheduleId: schedule.id, seatId: schedule.seats[2].id },
          });
          expect(again.status).toBe(201);
        },
        10_000,
        200,
      );
    });
  });
});
