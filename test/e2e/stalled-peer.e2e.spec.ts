import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConnection, Connection, RowDataPacket } from 'mysql2/promise';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, Fan, fansWithActiveTokens, RACE_ENV } from '../support/booking';
import { ChildApp } from '../support/child-app';
import { eventually } from '../support/eventually';

const ENV: Record<string, string> = {
  ...RACE_ENV,
  RESERVATION_MAX_HOLDS_PER_USER: '50',
  RESERVATION_MAX_SEATS_PER_SCHEDULE: '500',
};
/** A long GC pause, a frozen VM: longer than the seat lock's TTL (5 s) and the deadline (10 s). */
const STALL_MS = 12_000;
const SEATS = 500;
/** Seats 1..CHURNED are the ones the peer keeps taking and giving back. */
const CHURNED = 400;

interface Answer {
  status: number;
  code?: string;
  body: { id?: number; code?: string } | undefined;
  ms: number;
}

/** One HTTP call to an instance by URL, as a client would make it, timed. */
async function send(
  base: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  fan: Fan,
  body?: unknown,
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(await authHeader(fan.userId)),
      'queue-token': fan.token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Answer['body']) : undefined;
  return {
    status: response.status,
    code: parsed?.code,
    body: parsed,
    ms: performance.now() - started,
  };
}

/**
 * A peer instance stopped (SIGSTOP) in the middle of its transactions keeps its row locks until
 * it runs again. The other instances must not wait for it: a hold on a seat whose row it has
 * locked is answered 409 within about a second (the hold's 1 s lock wait, ADR 0013), and
 * plain reads never queue behind the holds that wait.
 */
describe('a stalled peer (e2e)', () => {
  // Around the apps' pools: the server's own view. Opened once the first app created the database.
  let direct: Connection | undefined;
  const connectDirect = async () =>
    (direct ??= await createConnection({
      host: process.env.DB_HOST,
      port: Number(process.env.DB_PORT),
      user: process.env.DB_USER,
      password: process.env.DB_PASSWORD,
      database: process.env.DB_NAME,
    }));

  afterAll(async () => {
    await direct?.end();
  });

  /** Seats whose row a transaction has locked, and whose committed state is still AVAILABLE. */
  async function seatsBeingTaken(seatIds: number[]): Promise<number[]> {
    const direct = await connectDirect();
    await direct.query('START TRANSACTION');
    try {
      const [free] = await direct.query<RowDataPacket[]>(
        'SELECT id FROM seats WHERE id IN (?) FOR UPDATE SKIP LOCKED',
        [seatIds],
      );
      const unlocked = new Set(free.map((row) => Number(row.id)));
      const locked = seatIds.filter((id) => !unlocked.has(id));
      if (locked.length === 0) return [];
      const [available] = await direct.query<RowDataPacket[]>(
        "SELECT id FROM seats WHERE id IN (?) AND status = 'AVAILABLE'",
        [locked],
      );
      return available.map((row) => Number(row.id));
    } finally {
      await direct.query('ROLLBACK');
    }
  }

  describe('a second app process stopped for 12 s in the middle of holds', () => {
    let app: NestFastifyApplication;
    let appUrl: string;
    let peer: ChildApp;

    beforeAll(async () => {
      app = await startApp(ENV);
      await app.listen({ port: 0, host: '127.0.0.1' });
      appUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      // Lag shedding off in the peer: what it does after a pause is the subject of its own test.
      peer = await ChildApp.start({ ...ENV, OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' });
    });

    afterAll(async () => {
      await peer?.stop();
      await app?.close();
    });

    it('should answer every hold with 201 or 409 within 2 s and agree on the seats after', async () => {
      const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: SEATS });
      const seatIds = schedule.seats.map((seat) => seat.id);
      const churned = seatIds.slice(0, CHURNED);
      const fans = await fansWithActiveTokens(app, 30, concertId);
      const peerFans = fans.slice(0, 20);
      const ourFans = fans.slice(20);
      const hold = (base: string, fan: Fan, seatId: number) =>
        send(base, 'POST', '/reservations', fan, { scheduleId: schedule.id, seatId });

      // The peer takes seats and gives them back, each fan its own, so it is always inside
      // hold and cancel transactions when it is stopped.
      let churning = true;
      const peerHeld = new Set<number>();
      const peerCancelled = new Set<number>();
      const peerAnswers: Answer[] = [];
      const churn = peerFans.map(async (fan, index) => {
        for (let turn = 0; churning; turn++) {
          const seatId = churned[(index + turn * peerFans.length) % churned.length];
          // Unreachable only once the peer is gone (a failed test stopping it): the loop ends.
          const held = await hold(peer.url, fan, seatId).catch(() => undefined);
          if (!held) return;
          peerAnswers.push(held);
          if (held.status !== 201 || held.body?.id === undefined) continue;
          peerHeld.add(held.body.id);
          const cancelled = await send(
            peer.url,
            'DELETE',
            `/reservations/${held.body.id}`,
            fan,
          ).catch(() => undefined);
          if (!cancelled) return;
          peerAnswers.push(cancelled);
          if (cancelled.status === 200) peerCancelled.add(held.body.id);
        }
      });
      // The peer is churning (it has answered) before it is stopped mid-flight.
      await eventually(() => Promise.resolve(expect(peerAnswers.length).toBeGreaterThan(0)));

      // Stop it at a moment when it has at least one seat row locked by a hold in flight.
      let contested: number[] = [];
      for (let attempt = 0; attempt < 30 && contested.length === 0; attempt++) {
        peer.pause();
        await sleep(20);
        contested = await seatsBeingTaken(churned);
        if (contested.length === 0) {
          peer.resume();
          await sleep(100 + Math.random() * 100);
        }
      }
      const stoppedAt = performance.now();
      expect(contested.length).toBeGreaterThan(0);

      // Meanwhile this instance's fans go for the same seats: half of them for the contested
      // ones only (so they never reach their hold limit), half for the rest.
      const ours: (Answer & { seatId: number; sentAt: number })[] = [];
      const free = seatIds.filter((id) => !contested.includes(id));
      await Promise.all(
        ourFans.map(async (fan, index) => {
          for (let turn = 0; performance.now() - stoppedAt < STALL_MS - 2_500; turn++) {
            const seatId =
              index % 2 === 0
                ? contested[(index + turn) % contested.length]
                : free[(index * 37 + turn) % free.length];
            const sentAt = performance.now() - stoppedAt;
            ours.push({ ...(await hold(appUrl, fan, seatId)), seatId, sentAt });
            await sleep(50);
          }
        }),
      );
      await sleep(Math.max(0, STALL_MS - (performance.now() - stoppedAt)));
      peer.resume();
      const resumedAt = performance.now();
      const firstAnswer = await send(
        peer.url,
        'GET',
        `/concerts/${concertId}/schedules/${schedule.id}/seats`,
        ourFans[0],
      );
      const resumedAnswerMs = performance.now() - resumedAt;
      churning = false;
      await Promise.all(churn);

      // Every answer of ours: 201 or 409, within 2 s, and the contested seats were never won.
      const statuses = new Set(ours.map((answer) => answer.status));
      expect([...statuses].sort()).toEqual(expect.arrayContaining([201, 409]));
      expect(ours.filter((answer) => answer.status !== 201 && answer.status !== 409)).toEqual([]);
      expect(ours.filter((answer) => answer.ms >= 2_000)).toEqual([]);
      const onContested = ours.filter((answer) => contested.includes(answer.seatId));
      expect(onContested.map((answer) => answer.code)).toEqual(
        onContested.map(() => 'SEAT_UNAVAILABLE'),
      );
      // Past the peer's Redis seat locks (5 s TTL) the holds reached the locked rows, waited the
      // hold's lock wait (1 s) and were answered 409, rather than waiting out the stall.
      const pastLockTtl = onContested.filter((answer) => answer.sentAt > 5_500);
      expect(pastLockTtl.some((answer) => answer.ms >= 900)).toBe(true);

      // The peer, resumed: it answers at once; what it had in flight is 503 (past its deadline)
      // or a normal answer, never a 500.
      expect(firstAnswer.status).toBe(200);
      expect(resumedAnswerMs).toBeLessThan(1_000);
      expect(peerAnswers.filter((answer) => answer.status >= 500 && answer.status !== 503)).toEqual(
        [],
      );

      // Nothing the peer answered with an error took effect later: its live holds are exactly
      // those it answered 201 and did not manage to cancel.
      const [live] = await (
        await connectDirect()
      ).query<RowDataPacket[]>(
        "SELECT id FROM reservations WHERE schedule_id = ? AND status = 'HELD' AND user_id IN (?)",
        [schedule.id, peerFans.map((fan) => fan.userId)],
      );
      for (const { id } of live as { id: number }[]) {
        expect(peerHeld.has(id) && !peerCancelled.has(id)).toBe(true);
      }

      // Both instances show the same seats, and no seat was won twice.
      const seatsPath = `/concerts/${concertId}/schedules/${schedule.id}/seats`;
      const [ourView, peerView] = await Promise.all([
        send(appUrl, 'GET', seatsPath, ourFans[0]),
        send(peer.url, 'GET', seatsPath, ourFans[0]),
      ]);
      expect(ourView.status).toBe(200);
      expect(peerView.body).toEqual(ourView.body);
      await assertBookingInvariants(app);
    }, 180_000);
  });

  describe('plain reads while every transaction waits on a stalled lock', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      // A small pool, and no Redis seat lock, so the waiting holds could take every connection.
      app = await startApp({ ...ENV, DB_POOL_SIZE: '5', RESERVATION_SEAT_LOCK: 'off' });
    });

    afterAll(async () => {
      await app?.close();
    });

    it('should answer reads at once while holds wait on a row locked by a stalled holder', async () => {
      const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 10 });
      const fans = await fansWithActiveTokens(app, 20, concertId);
      const seat = schedule.seats[0].id;

      // A stalled holder: a transaction that locked the seat's row and then went quiet.
      const direct = await connectDirect();
      await direct.query('START TRANSACTION');
      try {
        await direct.query('SELECT id FROM seats WHERE id = ? FOR UPDATE', [seat]);
        const holds = fans.map((fan) =>
          call(app, 'POST', '/reservations', {
            user: fan.userId,
            token: fan.token,
            body: { scheduleId: schedule.id, seatId: seat },
          }),
        );
        // Lets the holds take their connections and queue behind the lock before the read.
        await sleep(200);
        const started = performance.now();
        const read = await call(
          app,
          'GET',
          `/concerts/${concertId}/schedules/${schedule.id}/seats`,
          { user: fans[0].userId, token: fans[0].token },
        );
        const readMs = performance.now() - started;
        const answers = await Promise.all(holds);

        expect(read.status).toBe(200);
        // Without the reserve the read would queue behind the 1 s lock waits.
        expect(readMs).toBeLessThan(500);
        expect(answers.filter((answer) => answer.status === 201)).toEqual([]);
        expect(
          answers.filter(
            (answer) =>
              !(answer.status === 409 && answer.body?.code === 'SEAT_UNAVAILABLE') &&
              !(answer.status === 503 && answer.body?.code === 'SERVICE_UNAVAILABLE'),
          ),
        ).toEqual([]);
        expect(answers.some((answer) => answer.status === 409)).toBe(true);
      } finally {
        await direct.query('ROLLBACK');
      }
    });
  });
});
