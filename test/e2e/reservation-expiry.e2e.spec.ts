import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { releaseExpiredHolds } from '../support/jobs';
import { ReservationScheduler } from '../../src/modules/reservation/presentation/reservation.scheduler';
import { createSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { expectProblem } from '../support/assertions';
import {
  call,
  expireHoldsNow,
  Fan,
  fansWithActiveTokens,
  holdSeat,
  startCluster,
  tally,
  useBookingStage,
} from '../support/booking';
import { eventually } from '../support/eventually';

async function metric(app: NestFastifyApplication, name: string): Promise<number> {
  const reply = await app.inject({ method: 'GET', url: '/metrics' });
  const line = reply.body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** A seat's status as the public seat list shows it to `viewer`. */
async function seatStatus(
  app: NestFastifyApplication,
  viewer: Fan,
  concertId: number,
  scheduleId: number,
  seatId: number,
): Promise<string | undefined> {
  const reply = await call(app, 'GET', `/concerts/${concertId}/schedules/${scheduleId}/seats`, {
    user: viewer.userId,
    token: viewer.token,
  });
  return (reply.body as { id: number; status: string }[]).find((s) => s.id === seatId)?.status;
}

/** The scheduled release job as production runs it: every second, on every instance. */
describe('hold expiry with the scheduled job running (e2e)', () => {
  // The first instance runs the real job every second, as production does.
  const stage = useBookingStage(async () => [
    ...(await startCluster(1, { RESERVATION_HOLD_SECONDS: '2', JOBS_ENABLED: 'true' })),
    ...(await startCluster(2, { RESERVATION_HOLD_SECONDS: '2' })),
  ]);
  let fans: Fan[];

  beforeAll(async () => {
    fans = await fansWithActiveTokens(stage.app, 2, stage.concertId);
  });

  it('should free a 2 s hold within 5 s of expiry by the scheduled job, so another fan can hold it', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 3 });
    const seat = schedule.seats[1];
    const [first, second] = fans.slice(0, 2);
    const held = await holdSeat(stage.apps[1], first, schedule.id, seat.id);
    expect(held.status).toBe(201);
    const expiresAt = Date.parse(held.body.expiresAt);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(2_100);
    expect(await seatStatus(stage.apps[1], fans[0], stage.concertId, schedule.id, seat.id)).toBe(
      'HELD',
    );

    await eventually(async () => {
      const [row] = await sql<{ r: string; s: string }[]>(
        stage.app,
        `SELECT r.status AS r, s.status AS s FROM reservations r JOIN seats s ON s.id = r.seat_id
          WHERE r.id = ?`,
        [held.body.id],
      );
      expect(row).toEqual({ r: 'EXPIRED', s: 'AVAILABLE' });
    }, 8_000);
    expect(Date.now() - expiresAt).toBeLessThan(5_000);

    const read = await call(stage.apps[2], 'GET', `/reservations/${held.body.id}`, {
      user: first.userId,
      token: first.token,
    });
    expect(read.body.status).toBe('EXPIRED');
    expect(await seatStatus(stage.apps[1], fans[0], stage.concertId, schedule.id, seat.id)).toBe(
      'AVAILABLE',
    );
    const again = await holdSeat(stage.apps[2], second, schedule.id, seat.id);
    expect(again.status).toBe(201);
    expect(again.body.userId).toBe(second.userId);
  });
});

/** Holds running out with the job driven by hand: readers, re-holding, concurrent runners. */
describe('hold expiry and the release job run by hand (e2e)', () => {
  // Three instances with JOBS_ENABLED=false: the tests run the job themselves, and end holds by
  // moving their expiry into the past (expireHoldsNow) instead of waiting for it.
  const stage = useBookingStage(() => startCluster(3));
  let fans: Fan[];

  beforeAll(async () => {
    fans = await fansWithActiveTokens(stage.app, 400, stage.concertId);
  });

  it('should show a run-out hold as AVAILABLE/EXPIRED at once and let another fan take it before any job ran', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 3 });
    const seat = schedule.seats[0];
    const [first, second] = fans.slice(2, 4);
    const held = await holdSeat(stage.app, first, schedule.id, seat.id);
    expect(held.status).toBe(201);
    const tooEarly = await holdSeat(stage.apps[1], second, schedule.id, seat.id);
    expectProblem(tooEarly, 409, 'SEAT_UNAVAILABLE');

    await expireHoldsNow(stage.app, [held.body.id]);
    expect(await seatStatus(stage.apps[1], fans[0], stage.concertId, schedule.id, seat.id)).toBe(
      'AVAILABLE',
    );
    const read = await call(stage.apps[1], 'GET', `/reservations/${held.body.id}`, {
      user: first.userId,
      token: first.token,
    });
    expect(read.body.status).toBe('EXPIRED');
    const cancel = await call(stage.apps[1], 'DELETE', `/reservations/${held.body.id}`, {
      user: first.userId,
      token: first.token,
    });
    expectProblem(cancel, 409, 'RESERVATION_NOT_HELD');

    // The stored row still says HELD (no job ran); the new hold retires it in its transaction.
    const taken = await holdSeat(stage.apps[2], second, schedule.id, seat.id);
    expect(taken.status).toBe(201);
    const rows = await sql(
      stage.app,
      'SELECT id, status FROM reservations WHERE seat_id = ? ORDER BY id',
      [seat.id],
    );
    expect(rows).toEqual([
      { id: held.body.id, status: 'EXPIRED' },
      { id: taken.body.id, status: 'HELD' },
    ]);
  });

  it('should expire each reservation exactly once when three runners release at the same moment', async () => {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount: 450 });
    // More holds than one batch, so the runners' batches overlap and run past the first one.
    const holders = fans.slice(0, 350);
    const replies = await Promise.all(
      holders.map((fan, i) => holdSeat(stage.apps[i % 3], fan, schedule.id, schedule.seats[i].id)),
    );
    expect(tally(replies)).toEqual({ '201': 350 });
    const ids = replies.map((reply) => reply.body.id as number);
    const before = await Promise.all(
      stage.apps.map((app) => metric(app, 'reservation_expirations_total')),
    );
    await expireHoldsNow(stage.app, ids);
    // Earlier tests in this worker's database may have left run-out holds too; all are due.
    const [{ due }] = await sql<{ due: number }[]>(
      stage.app,
      `SELECT COUNT(*) AS due FROM reservations WHERE status = 'HELD' AND expires_at <= UTC_TIMESTAMP(3)`,
    );
    expect(Number(due)).toBeGreaterThanOrEqual(350);

    // Two runners per instance (the facade directly, past the scheduler's in-process guard).
    const runs = await Promise.all(
      stage.apps.flatMap((app) => [releaseExpiredHolds(app), releaseExpiredHolds(app)]),
    );

    expect(runs.reduce((sum, n) => sum + n, 0)).toBe(Number(due));
    const after = await Promise.all(
      stage.apps.map((app) => metric(app, 'reservation_expirations_total')),
    );
    expect(after.reduce((s, n) => s + n, 0) - before.reduce((s, n) => s + n, 0)).toBe(Number(due));
    const statuses = await sql<{ status: string; n: number }[]>(
      stage.app,
      'SELECT status, COUNT(*) AS n FROM reservations WHERE id IN (?) GROUP BY status',
      [ids],
    );
    expect(statuses.map((row) => [row.status, Number(row.n)])).toEqual([['EXPIRED', 350]]);
    const seats = await call(
      stage.app,
      'GET',
      `/concerts/${stage.concertId}/schedules/${schedule.id}/seats`,
      {
        user: fans[399].userId,
        token: fans[399].token,
      },
    );
    expect(new Set(seats.body.map((s: { status: string }) => s.status))).toEqual(
      new Set(['AVAILABLE']),
    );
    const [{ held }] = await sql<{ held: number }[]>(
      stage.app,
      `SELECT COUNT(*) AS held FROM seats WHERE schedule_id = ? AND status <> 'AVAILABLE'`,
      [schedule.id],
    );
    expect(Number(held)).toBe(0);
    // Nothing left: another round finds no work.
    await expect(stage.app.get(ReservationScheduler).tick()).resolves.toBe(0);
  });
});
