import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OutboxPurgeScheduler } from '../../src/common/outbox/outbox-purge.scheduler';
import { releaseExpiredHolds } from '../support/jobs';
import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { call, charge, Fan, fansWithActiveTokens, RACE_ENV } from '../support/booking';
import { amqpUrl, outboxCount, OutboxRow, outboxRows } from '../support/events';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The event rows of one subject as (type, data) pairs, in commit order. */
async function eventsOf(app: NestFastifyApplication, subject: string) {
  const rows = await outboxRows(app, subject);
  return rows.map((row) => ({ type: row.type, data: JSON.parse(row.data) as unknown }));
}

/** Runs the change and returns how many outbox rows it added in all. */
async function added(app: NestFastifyApplication, change: () => Promise<unknown>) {
  const before = await outboxCount(app);
  await change();
  return (await outboxCount(app)) - before;
}

/**
 * Every committed change writes exactly one event in its own transaction; a change that rolls
 * back writes none. Checked on the outbox rows themselves (no relay here: outbox-relay.spec.ts
 * covers publishing).
 */
describe('transactional outbox (e2e)', () => {
  let app: NestFastifyApplication;
  let fans: Fan[];
  let concertId: number;
  let next = 0;
  const fan = () => fans[next++];

  beforeAll(async () => {
    app = await startApp(RACE_ENV);
    concertId = (await createConcert(app)).id;
    fans = await fansWithActiveTokens(app, 40, concertId);
  });

  afterAll(async () => {
    await app.close();
  });

  async function schedule(seatCount = 4) {
    return createSchedule(app, concertId, { seatCount });
  }

  function hold(who: Fan, scheduleId: number, seatId: number) {
    return call(app, 'POST', '/reservations', {
      user: who.userId,
      token: who.token,
      body: { scheduleId, seatId },
    });
  }

  /** Moves a hold's end (and its seat's) into the past, as if its time had run out. */
  async function expireNow(reservationId: number) {
    await sql(
      app,
      `UPDATE reservations r JOIN seats s ON s.id = r.seat_id
          SET r.expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND,
              s.hold_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND
        WHERE r.id = ?`,
      [reservationId],
    );
  }

  it('should write one reservation.held with the reservation as the API shows it when a hold commits', async () => {
    const who = fan();
    const { id: scheduleId, seats } = await schedule();
    const held = await hold(who, scheduleId, seats[0].id);
    expect(held.status).toBe(201);

    const rows: OutboxRow[] = await outboxRows(app, `reservation/${held.body.id}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'reservation.held', sent_at: null });
    expect(rows[0].event_id).toMatch(UUID);
    expect(JSON.parse(rows[0].data)).toEqual({ ...held.body, userId: who.userId });
    expect(Math.abs(rows[0].created_at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('should write reservation.cancelled after reservation.held when the hold is cancelled', async () => {
    const who = fan();
    const { id: scheduleId, seats } = await schedule();
    const held = await hold(who, scheduleId, seats[0].id);
    const cancelled = await call(app, 'DELETE', `/reservations/${held.body.id}`, {
      user: who.userId,
      token: who.token,
    });
    expect(cancelled.status).toBe(200);

    expect(await eventsOf(app, `reservation/${held.body.id}`)).toEqual([
      { type: 'reservation.held', data: held.body },
      { type: 'reservation.cancelled', data: cancelled.body },
    ]);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', userId: who.userId });
  });

  it('should write one reservation.expired per expired hold when release jobs race', async () => {
    const { id: scheduleId, seats } = await schedule(6);
    const holds = [];
    for (const seat of seats) {
      const held = await hold(fan(), scheduleId, seat.id);
      expect(held.status).toBe(201);
      holds.push(held.body as { id: number });
      await expireNow(held.body.id);
    }
    const runs = await Promise.all([
      releaseExpiredHolds(app),
      releaseExpiredHolds(app),
      releaseExpiredHolds(app),
    ]);
    // Each expired hold was released by exactly one of the racing runs (no other hold had expired).
    expect(runs.reduce((sum, expired) => sum + expired, 0)).toBe(holds.length);
    await releaseExpiredHolds(app);

    for (const held of holds) {
      const events = await eventsOf(app, `reservation/${held.id}`);
      expect(events.map((event) => event.type)).toEqual([
        'reservation.held',
        'reservation.expired',
      ]);
      expect(events[1].data).toMatchObject({ id: held.id, status: 'EXPIRED', paymentId: null });
    }
  });

  it('should write the displaced hold’s reservation.expired with the new hold’s event when an expired seat is taken again', async () => {
    const { id: scheduleId, seats } = await schedule();
    const first = await hold(fan(), scheduleId, seats[0].id);
    await expireNow(first.body.id);

    const second = await hold(fan(), scheduleId, seats[0].id);
    expect(second.status).toBe(201);

    expect((await eventsOf(app, `reservation/${first.body.id}`)).map((e) => e.type)).toEqual([
      'reservation.held',
      'reservation.expired',
    ]);
    expect(await eventsOf(app, `reservation/${second.body.id}`)).toEqual([
      { type: 'reservation.held', data: second.body },
    ]);
    // The job finds nothing left to expire, so no second expired event.
    await releaseExpiredHolds(app);
    expect(await outboxRows(app, `reservation/${first.body.id}`)).toHaveLength(2);
  });

  it('should write cash.charged once per charge, and nothing for an idempotent replay', async () => {
    const who = fan();
    const headers = { 'idempotency-key': `charge-${who.userId}` };
    const first = await call(app, 'POST', `/users/${who.userId}/cash/charges`, {
      user: who.userId,
      body: { amount: 70_000 },
      headers,
    });
    const replay = await call(app, 'POST', `/users/${who.userId}/cash/charges`, {
      user: who.userId,
      body: { amount: 70_000 },
      headers,
    });
    expect([first.status, replay.status]).toEqual([200, 200]);

    expect(await eventsOf(app, `user/${who.userId}`)).toEqual([
      { type: 'cash.charged', data: { userId: who.userId, balance: 70_000, amount: 70_000 } },
    ]);
  });

  it('should write one payment.completed with the payment as the API shows it, and one payment.refunded on refund', async () => {
    const who = fan();
    const { id: scheduleId, seats } = await schedule();
    await charge(app, who.userId, 200_000);
    const a = await hold(who, scheduleId, seats[0].id);
    const b = await hold(who, scheduleId, seats[1].id);

    const paid = await call(app, 'POST', '/payments', {
      user: who.userId,
      token: who.token,
      body: { reservationIds: [a.body.id, b.body.id] },
    });
    expect(paid.status).toBe(201);
    const subject = `payment/${paid.body.id}`;
    expect(await eventsOf(app, subject)).toEqual([{ type: 'payment.completed', data: paid.body }]);
    expect(paid.body).toMatchObject({ userId: who.userId, status: 'COMPLETED' });
    // The reservations' confirmation is part of the payment's event, not events of their own.
    expect(await outboxRows(app, `reservation/${a.body.id}`)).toHaveLength(1);

    const refunded = await call(app, 'POST', `/payments/${paid.body.id}/refund`, {
      user: who.userId,
    });
    expect(refunded.status).toBe(200);
    expect(await eventsOf(app, subject)).toEqual([
      { type: 'payment.completed', data: paid.body },
      { type: 'payment.refunded', data: refunded.body },
    ]);
    expect(refunded.body).toMatchObject({ status: 'REFUNDED', userId: who.userId });
  });

  it('should write no event when a change is refused and rolls back', async () => {
    const [poor, rival] = [fan(), fan()];
    const { id: scheduleId, seats } = await schedule();
    const held = await hold(poor, scheduleId, seats[0].id);
    const baseline = await outboxCount(app);

    // A payment that fails after opening the payment row: the debit finds too little cash.
    await expect(
      added(app, async () => {
        const short = await call(app, 'POST', '/payments', {
          user: poor.userId,
          token: poor.token,
          body: { reservationIds: [held.body.id] },
        });
        expect(short.body.code).toBe('INSUFFICIENT_BALANCE');
      }),
    ).resolves.toBe(0);
    // A hold on a seat someone holds; a cancel of someone else's hold.
    await expect(
      added(app, async () => {
        const taken = await hold(rival, scheduleId, seats[0].id);
        expect(taken.body.code).toBe('SEAT_UNAVAILABLE');
      }),
    ).resolves.toBe(0);
    await expect(
      added(app, async () => {
        const theirs = await call(app, 'DELETE', `/reservations/${held.body.id}`, {
          user: rival.userId,
          token: rival.token,
        });
        expect(theirs.body.code).toBe('RESERVATION_NOT_FOUND');
      }),
    ).resolves.toBe(0);
    // A cancel that fails inside its transaction, after the row lock: the hold is no longer HELD.
    const gone = await hold(rival, scheduleId, seats[1].id);
    await call(app, 'DELETE', `/reservations/${gone.body.id}`, {
      user: rival.userId,
      token: rival.token,
    });
    await expect(
      added(app, async () => {
        const again = await call(app, 'DELETE', `/reservations/${gone.body.id}`, {
          user: rival.userId,
          token: rival.token,
        });
        expect(again.body.code).toBe('RESERVATION_NOT_HELD');
      }),
    ).resolves.toBe(0);
    // Only the rival's committed hold and cancel wrote events.
    expect(await outboxCount(app)).toBe(baseline + 2);
  });

  describe('retention purge', () => {
    async function age(ids: number[], hours: number, sent: boolean) {
      await sql(
        app,
        `UPDATE outbox_events SET created_at = UTC_TIMESTAMP(3) - INTERVAL ? HOUR,
                sent_at = IF(?, UTC_TIMESTAMP(3), NULL) WHERE id IN (?)`,
        [hours, sent, ids],
      );
    }

    async function fourFreshEvents(): Promise<number[]> {
      const who = fan();
      for (let i = 0; i < 4; i++) await charge(app, who.userId, 1_000);
      return (await outboxRows(app, `user/${who.userId}`)).map((row) => row.id);
    }

    async function remaining(ids: number[]): Promise<number[]> {
      const rows = await sql<{ id: number }[]>(
        app,
        'SELECT id FROM outbox_events WHERE id IN (?) ORDER BY id',
        [ids],
      );
      return rows.map((row) => row.id);
    }

    it('should delete sent events past EVENTS_RETENTION_HOURS and keep unsent ones when a broker is configured', async () => {
      const [oldSent, oldUnsent, freshSent, fresh] = await fourFreshEvents();
      await age([oldSent], 169, true);
      await age([oldUnsent], 169, false);
      await age([freshSent], 167, true);

      const relaying = await startApp({ EVENTS_AMQP_URL: amqpUrl() });
      try {
        await relaying.get(OutboxPurgeScheduler).purge();
      } finally {
        await relaying.close();
      }
      await expect(remaining([oldSent, oldUnsent, freshSent, fresh])).resolves.toEqual([
        oldUnsent,
        freshSent,
        fresh,
      ]);
    });

    it('should delete unsent events past the retention too when no broker is configured', async () => {
      const [oldSent, oldUnsent, freshUnsent, fresh] = await fourFreshEvents();
      await age([oldSent], 169, true);
      await age([oldUnsent], 169, false);
      await age([freshUnsent], 167, false);

      await app.get(OutboxPurgeScheduler).purge();
      await expect(remaining([oldSent, oldUnsent, freshUnsent, fresh])).resolves.toEqual([
        freshUnsent,
        fresh,
      ]);
    });
  });
});
