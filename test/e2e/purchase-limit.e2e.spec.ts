import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { expectProblem } from '../support/assertions';
import {
  call,
  charge,
  expireHoldsNow,
  Fan,
  fansWithActiveTokens,
  holdSeat,
  payFor,
  Reply,
  startCluster,
  tally,
  useBookingStage,
} from '../support/booking';
import { activeTokenFor } from '../support/queue';

const PRICE = 50_000;
/** Every app here allows two seats per person and schedule (the default is 4). */
const LIMIT_ENV = { RESERVATION_MAX_SEATS_PER_SCHEDULE: '2' };

/** A user's reservations in one schedule, by status: `{ HELD: 2 }`. */
async function reservationsOf(
  app: NestFastifyApplication,
  userId: string,
  scheduleId: number,
): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number | string }[]>(
    app,
    `SELECT status, COUNT(*) AS n FROM reservations
      WHERE user_id = ? AND schedule_id = ? GROUP BY status ORDER BY status`,
    [userId, scheduleId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/** Seats of a schedule by status: `{ AVAILABLE: 4, HELD: 2 }`. */
async function seatsOf(
  app: NestFastifyApplication,
  scheduleId: number,
): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number | string }[]>(
    app,
    'SELECT status, COUNT(*) AS n FROM seats WHERE schedule_id = ? GROUP BY status ORDER BY status',
    [scheduleId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/**
 * RESERVATION_MAX_SEATS_PER_SCHEDULE: a user's unexpired HELD plus CONFIRMED seats in one
 * schedule never exceed the limit, however their holds race; decided in the hold transaction
 * under the user's row lock, so in MySQL, not in any one process.
 */
describe('purchase limit per schedule (e2e)', () => {
  describe('on one instance', () => {
    const stage = useBookingStage(() => startCluster(1, LIMIT_ENV));

    it('should let one user hold exactly 2 of 6 seats asked for at once, then count paid seats too', async () => {
      const { app, concertId } = stage;
      const schedule = await createSchedule(app, concertId, { seatCount: 8, price: PRICE });
      const other = await createSchedule(app, concertId, { seatCount: 2, price: PRICE });
      const [fan] = await fansWithActiveTokens(app, 1, concertId);

      const replies = await Promise.all(
        schedule.seats.slice(0, 6).map((seat) => holdSeat(app, fan, schedule.id, seat.id)),
      );

      expect(tally(replies)).toEqual({ '201': 2, '409 PURCHASE_LIMIT_REACHED': 4 });
      for (const refused of replies.filter((reply) => reply.status === 409)) {
        expect(refused.headers['content-type']).toMatch(/problem\+json/);
      }
      await expect(reservationsOf(app, fan.userId, schedule.id)).resolves.toEqual({ HELD: 2 });
      await expect(seatsOf(app, schedule.id)).resolves.toEqual({ AVAILABLE: 6, HELD: 2 });

      // Paying for the two keeps them counted: CONFIRMED seats are part of the limit.
      await charge(app, fan.userId, 2 * PRICE);
      const won = replies.filter((reply) => reply.status === 201).map((r) => r.body.id as number);
      const paid = await payFor(app, fan, won);
      expect(paid.status).toBe(201);
      const again: Fan = { ...fan, token: await activeTokenFor(app, fan.userId, concertId) };

      const more = await holdSeat(app, again, schedule.id, schedule.seats[6].id);
      expectProblem(more, 409, 'PURCHASE_LIMIT_REACHED');
      await expect(reservationsOf(app, fan.userId, schedule.id)).resolves.toEqual({
        CONFIRMED: 2,
      });
      await expect(seatsOf(app, schedule.id)).resolves.toEqual({ AVAILABLE: 6, SOLD: 2 });

      // The limit is per schedule: another schedule of the same concert is still open to them.
      const elsewhere = await holdSeat(app, again, other.id, other.seats[0].id);
      expect(elsewhere.status).toBe(201);
      expect(elsewhere.body).toMatchObject({ scheduleId: other.id, status: 'HELD' });
      await expect(reservationsOf(app, fan.userId, other.id)).resolves.toEqual({ HELD: 1 });
    });

    it('should free the place of a cancelled hold and check the hold limit first', async () => {
      const { app, concertId } = stage;
      const first = await createSchedule(app, concertId, { seatCount: 3 });
      const second = await createSchedule(app, concertId, { seatCount: 3 });
      const [fan] = await fansWithActiveTokens(app, 1, concertId);
      const a = await holdSeat(app, fan, first.id, first.seats[0].id);
      const b = await holdSeat(app, fan, first.id, first.seats[1].id);
      expect([a.status, b.status]).toEqual([201, 201]);

      // A cancelled hold no longer counts.
      const cancelled = await call(app, 'DELETE', `/reservations/${b.body.id}`, {
        user: fan.userId,
        token: fan.token,
      });
      expect(cancelled.status).toBe(200);
      expect((await holdSeat(app, fan, first.id, first.seats[2].id)).status).toBe(201);

      // Four live holds (the RESERVATION_MAX_HOLDS_PER_USER default) over two schedules: a hold
      // that breaks both limits is answered with the hold limit.
      expect((await holdSeat(app, fan, second.id, second.seats[0].id)).status).toBe(201);
      expect((await holdSeat(app, fan, second.id, second.seats[1].id)).status).toBe(201);
      const both = await holdSeat(app, fan, first.id, first.seats[1].id);
      expectProblem(both, 409, 'HOLD_LIMIT_REACHED');
      await expect(reservationsOf(app, fan.userId, first.id)).resolves.toEqual({
        CANCELLED: 1,
        HELD: 2,
      });
      await expect(reservationsOf(app, fan.userId, second.id)).resolves.toEqual({ HELD: 2 });
    });
  });

  describe('with holds that ran out', () => {
    const stage = useBookingStage(() => startCluster(1, LIMIT_ENV));

    it('should not count holds that ran out, before any release job ran', async () => {
      const { app, concertId } = stage;
      const schedule = await createSchedule(app, concertId, { seatCount: 4 });
      const [fan] = await fansWithActiveTokens(app, 1, concertId);
      const held = await Promise.all(
        schedule.seats.slice(0, 2).map((seat) => holdSeat(app, fan, schedule.id, seat.id)),
      );
      expect(tally(held)).toEqual({ '201': 2 });
      const full = await holdSeat(app, fan, schedule.id, schedule.seats[2].id);
      expectProblem(full, 409, 'PURCHASE_LIMIT_REACHED');

      await expireHoldsNow(
        app,
        held.map((reply) => reply.body.id as number),
      );
      // Still stored HELD (JOBS_ENABLED=false), but past expiry: no longer counted.
      await expect(reservationsOf(app, fan.userId, schedule.id)).resolves.toEqual({ HELD: 2 });
      const replies = await Promise.all(
        schedule.seats.slice(2, 4).map((seat) => holdSeat(app, fan, schedule.id, seat.id)),
      );
      expect(tally(replies)).toEqual({ '201': 2 });
    });
  });

  describe('across 3 instances', () => {
    const INSTANCES = 3;
    const stage = useBookingStage(() => startCluster(INSTANCES, LIMIT_ENV));

    it('should let one user hold exactly 2 of 6 seats when the 6 holds race over 3 instances', async () => {
      const { apps, concertId } = stage;
      const schedule = await createSchedule(apps[0], concertId, { seatCount: 6 });
      const [fan] = await fansWithActiveTokens(apps[0], 1, concertId);

      const replies = await Promise.all(
        schedule.seats.map((seat, i) => holdSeat(apps[i % INSTANCES], fan, schedule.id, seat.id)),
      );

      expect(tally(replies)).toEqual({ '201': 2, '409 PURCHASE_LIMIT_REACHED': 4 });
      await expect(reservationsOf(apps[0], fan.userId, schedule.id)).resolves.toEqual({
        HELD: 2,
      });
      await expect(seatsOf(apps[0], schedule.id)).resolves.toEqual({ AVAILABLE: 4, HELD: 2 });
    });

    it('should hold each of 30 users to 2 seats when all 180 of their holds race over 3 instances', async () => {
      const { apps, concertId } = stage;
      const USERS = 30;
      const schedule = await createSchedule(apps[0], concertId, { seatCount: 6 * USERS });
      const fans = await fansWithActiveTokens(apps[0], USERS, concertId);

      // Interleaved so every instance serves every user's holds at the same moment.
      const requests: { fan: Fan; reply: Promise<Reply> }[] = [];
      for (let round = 0; round < 6; round++) {
        for (const [u, fan] of fans.entries()) {
          const seat = schedule.seats[round * USERS + u];
          const app = apps[(round + u) % INSTANCES];
          requests.push({ fan, reply: holdSeat(app, fan, schedule.id, seat.id) });
        }
      }
      const replies = await Promise.all(requests.map((r) => r.reply));

      expect(tally(replies)).toEqual({ '201': 2 * USERS, '409 PURCHASE_LIMIT_REACHED': 4 * USERS });
      for (const fan of fans) {
        const mine = replies.filter((_, i) => requests[i].fan === fan);
        expect(tally(mine)).toEqual({ '201': 2, '409 PURCHASE_LIMIT_REACHED': 4 });
      }
      const perUser = await sql<{ user_id: string; n: number | string }[]>(
        apps[0],
        `SELECT user_id, COUNT(*) AS n FROM reservations
          WHERE schedule_id = ? AND status = 'HELD' GROUP BY user_id`,
        [schedule.id],
      );
      expect(perUser).toHaveLength(USERS);
      expect(new Set(perUser.map((row) => Number(row.n)))).toEqual(new Set([2]));
      await expect(seatsOf(apps[0], schedule.id)).resolves.toEqual({
        AVAILABLE: 4 * USERS,
        HELD: 2 * USERS,
      });
    });
  });
});
