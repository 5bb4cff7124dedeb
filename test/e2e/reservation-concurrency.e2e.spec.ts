import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { expectAuditOk } from '../support/audit';
import { assertBookingInvariants } from '../support/booking-invariants';
import {
  call,
  Fan,
  fansWithActiveTokens,
  holdSeat,
  Reply,
  startCluster,
  tally,
  useBookingStage,
} from '../support/booking';
import { resetQueue } from '../support/queue';

/**
 * Seat holds raced across several app instances (one process, one MySQL, one Redis). The Redis
 * lock is only a shield: every race also runs with it switched off, and the outcome must be the
 * same, decided by the database fence alone.
 */
describe.each([
  ['with the Redis seat lock', 'redis'],
  ['with the lock off (database fence alone)', 'off'],
])('seat holds across instances %s', (_title, seatLock) => {
  const INSTANCES = 5;
  const stage = useBookingStage(
    () => startCluster(INSTANCES, { RESERVATION_SEAT_LOCK: seatLock }),
    { audit: true },
  );
  let fans: Fan[];

  beforeAll(async () => {
    fans = await fansWithActiveTokens(stage.app, 1000, stage.concertId);
  });

  const hold = (i: number, fan: Fan, scheduleId: number, seatId: number): Promise<Reply> =>
    holdSeat(stage.apps[i % INSTANCES], fan, scheduleId, seatId);

  async function seatList(scheduleId: number) {
    const reply = await call(
      stage.app,
      'GET',
      `/concerts/${stage.concertId}/schedules/${scheduleId}/seats`,
      {
        user: fans[0].userId,
        token: fans[0].token,
      },
    );
    expect(reply.status).toBe(200);
    return reply.body as { id: number; status: string }[];
  }

  it('should give one seat to exactly one of 1,000 concurrent fans and 409 to the rest', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 10 });
    const seat = schedule.seats[4];

    const started = Date.now();
    const replies = await Promise.all(fans.map((fan, i) => hold(i, fan, schedule.id, seat.id)));
    const elapsedMs = Date.now() - started;

    expect(tally(replies)).toEqual({ '201': 1, '409 SEAT_UNAVAILABLE': 999 });
    const winner = replies.find((reply) => reply.status === 201)!;
    expect(winner.body).toMatchObject({ seatId: seat.id, status: 'HELD' });
    const rows = await sql(
      stage.app,
      'SELECT id, user_id, status FROM reservations WHERE seat_id = ?',
      [seat.id],
    );
    expect(rows).toEqual([{ id: winner.body.id, user_id: winner.body.userId, status: 'HELD' }]);
    const seats = await seatList(schedule.id);
    expect(seats.filter((s) => s.status === 'HELD').map((s) => s.id)).toEqual([seat.id]);
    console.log(`1,000-way race on one seat (lock ${seatLock}): ${elapsedMs} ms in total`);
  });

  it('should hold no seat twice when 400 fans go for random seats of one schedule', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 150 });
    const racers = fans.slice(0, 400);
    // A fixed pseudo-random pick keeps the test repeatable while making many fans collide.
    const pick = (i: number) => schedule.seats[(i * 7919 + 13) % 97];

    const replies = await Promise.all(
      racers.map((fan, i) => hold(i, fan, schedule.id, pick(i).id)),
    );

    const counts = tally(replies);
    expect(Object.keys(counts).sort()).toEqual(['201', '409 SEAT_UNAVAILABLE']);
    const won = replies.filter((reply) => reply.status === 201).map((reply) => reply.body.seatId);
    const contested = new Set(racers.map((_fan, i) => pick(i).id));
    // Every seat somebody asked for went to exactly one of them.
    expect(won.sort()).toEqual([...contested].sort());
    const seats = await seatList(schedule.id);
    expect(seats.filter((s) => s.status === 'HELD')).toHaveLength(counts['201']);
    const [{ live }] = await sql<{ live: number }[]>(
      stage.app,
      `SELECT COUNT(*) AS live FROM reservations WHERE schedule_id = ? AND status = 'HELD'`,
      [schedule.id],
    );
    expect(Number(live)).toBe(counts['201']);
  });

  it('should stop one fan at the hold limit when their holds race across instances', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 12 });
    const [fan] = fans.slice(600, 601);

    const replies = await Promise.all(
      schedule.seats.map((seat, i) => hold(i, fan, schedule.id, seat.id)),
    );

    expect(tally(replies)).toEqual({ '201': 4, '409 HOLD_LIMIT_REACHED': 8 });
    const [{ held }] = await sql<{ held: number }[]>(
      stage.app,
      `SELECT COUNT(*) AS held FROM reservations WHERE user_id = ? AND status = 'HELD'`,
      [fan.userId],
    );
    expect(Number(held)).toBe(4);
  });
});

/**
 * One instance whose overload guard admits a whole burst at once (a fast accept loop delivers
 * 1,000 requests within milliseconds). Every admitted request reads the seat before any lock, so
 * all 1,000 want a MySQL connection together: none may be turned away by the pool's queue.
 */
describe('a burst the overload guard admits on one instance', () => {
  const BURST = 1000;
  let app: NestFastifyApplication;
  let fans: Fan[];
  let concertId: number;

  beforeAll(async () => {
    [app] = await startCluster(1, { OVERLOAD_MAX_IN_FLIGHT: String(BURST) });
    await resetQueue(app);
    concertId = (await createConcert(app)).id;
    fans = await fansWithActiveTokens(app, BURST, concertId);
  });

  afterAll(async () => {
    await app.close();
  });

  it('should answer 1,000 holds of one seat with one 201 and 999 409s, none 503', async () => {
    const schedule = await createSchedule(app, concertId, { seatCount: 5 });
    const seat = schedule.seats[2];

    const replies = await Promise.all(fans.map((fan) => holdSeat(app, fan, schedule.id, seat.id)));

    expect(tally(replies)).toEqual({ '201': 1, '409 SEAT_UNAVAILABLE': 999 });
    await assertBookingInvariants(app);
    await expectAuditOk(app);
  });
});
