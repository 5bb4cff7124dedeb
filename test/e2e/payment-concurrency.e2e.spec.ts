import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import { expectAuditOk } from '../support/audit';
import { assertBookingInvariants } from '../support/booking-invariants';
import {
  call,
  charge,
  Fan,
  fansWithActiveTokens,
  Reply,
  startCluster,
  tally,
} from '../support/booking';
import { walletState } from '../support/cash-invariants';
import { activeTokenFor, resetQueue } from '../support/queue';

/**
 * Payments raced across several app instances (one process, one MySQL, one Redis). The outcome
 * must be exact: one payment per reservation, one debit, and the booking and ledger invariants
 * intact after every scenario.
 */
describe('payments across instances', () => {
  const INSTANCES = 4;
  const PRICE = 50_000;
  let apps: NestFastifyApplication[];
  /** Every fan's queue token is for this concert; each scenario books its own schedule of it. */
  let concertId: number;

  beforeAll(async () => {
    apps = await startCluster(INSTANCES);
    await resetQueue(apps[0]);
    concertId = (await createConcert(apps[0])).id;
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  afterEach(async () => {
    await assertBookingInvariants(apps[0]);
    await expectAuditOk(apps[0]);
  });

  async function holdOne(fan: Fan, scheduleId: number, seatId: number): Promise<number> {
    const reply = await call(apps[0], 'POST', '/reservations', {
      user: fan.userId,
      token: fan.token,
      body: { scheduleId, seatId },
    });
    expect(reply.status).toBe(201);
    return (reply.body as { id: number }).id;
  }

  const pay = (i: number, fan: Fan, reservationIds: number[], key?: string): Promise<Reply> =>
    call(apps[i % INSTANCES], 'POST', '/payments', {
      user: fan.userId,
      token: fan.token,
      body: { reservationIds },
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });

  async function reservationState(id: number) {
    const [row] = await sql<{ status: string; payment_id: number | null; seat_status: string }[]>(
      apps[0],
      `SELECT r.status, r.payment_id, s.status AS seat_status
         FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id = ?`,
      [id],
    );
    return row;
  }

  it('should let exactly one of 20 concurrent payments for one reservation through, debiting once', async () => {
    const [buyer] = await fansWithActiveTokens(apps[0], 1, concertId);
    await charge(apps[0], buyer.userId, 10 * PRICE);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 5, price: PRICE });
    const reservationId = await holdOne(buyer, schedule.id, schedule.seats[2].id);

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pay(i, buyer, [reservationId])),
    );

    // The losers waited on the reservation's row lock and then saw it CONFIRMED.
    expect(tally(replies)).toEqual({ '201': 1, '409 RESERVATION_NOT_HELD': 19 });
    const winner = replies.find((reply) => reply.status === 201)!;
    expect(winner.body).toMatchObject({ reservationIds: [reservationId], amount: PRICE });
    await expect(reservationState(reservationId)).resolves.toEqual({
      status: 'CONFIRMED',
      payment_id: winner.body.id,
      seat_status: 'SOLD',
    });
    await expect(walletState(apps[0], buyer.userId)).resolves.toEqual({
      balance: 9 * PRICE,
      ledgerSum: 9 * PRICE,
      entries: 2,
    });
    await expect(
      sql(apps[0], 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
    ).resolves.toEqual([{ id: winner.body.id }]);
  });

  it('should debit once and answer every racer with the same payment when 20 requests share one Idempotency-Key', async () => {
    const [buyer] = await fansWithActiveTokens(apps[0], 1, concertId);
    await charge(apps[0], buyer.userId, 10 * PRICE);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 5, price: PRICE });
    const reservationId = await holdOne(buyer, schedule.id, schedule.seats[0].id);

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pay(i, buyer, [reservationId], 'one-checkout')),
    );

    const fresh = replies.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
    const replayed = replies.filter((r) => r.headers['idempotent-replayed'] === 'true');
    const inProgress = replies.filter(
      (r) => r.status === 409 && r.body.code === 'IDEMPOTENCY_KEY_IN_PROGRESS',
    );
    expect(fresh).toHaveLength(1);
    expect(fresh.length + replayed.length + inProgress.length).toBe(20);
    for (const reply of replayed) {
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual(fresh[0].body);
    }
    for (const reply of inProgress) expect(reply.headers['retry-after']).toBe('1');
    console.log(
      `20 racers on one key: ${JSON.stringify(tally(replies))}, ${replayed.length} replayed`,
    );

    // Whoever got 409 retries (with the token the payment retired) and learns the same answer.
    const retry = await pay(1, buyer, [reservationId], 'one-checkout');
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(fresh[0].body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    await expect(walletState(apps[0], buyer.userId)).resolves.toMatchObject({
      balance: 9 * PRICE,
      entries: 2,
    });
    await expect(reservationState(reservationId)).resolves.toMatchObject({
      status: 'CONFIRMED',
      seat_status: 'SOLD',
    });
  });

  it('should never overdraw: two concurrent payments that each fit the balance but not both', async () => {
    const buyers = await fansWithActiveTokens(apps[0], 20, concertId);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 40, price: PRICE });
    const pairs = await Promise.all(
      buyers.map(async (buyer, i) => {
        await charge(apps[0], buyer.userId, PRICE + 1);
        return [
          await holdOne(buyer, schedule.id, schedule.seats[2 * i].id),
          await holdOne(buyer, schedule.id, schedule.seats[2 * i + 1].id),
        ];
      }),
    );

    const replies = await Promise.all(
      buyers.flatMap((buyer, i) => [
        pay(i, buyer, [pairs[i][0]]),
        pay(i + 1, buyer, [pairs[i][1]]),
      ]),
    );

    expect(tally(replies)).toEqual({ '201': 20, '422 INSUFFICIENT_BALANCE': 20 });
    for (const [i, buyer] of buyers.entries()) {
      await expect(walletState(apps[0], buyer.userId)).resolves.toMatchObject({ balance: 1 });
      const states = await Promise.all(pairs[i].map((id) => reservationState(id)));
      expect(states.map((state) => state.status).sort()).toEqual(['CONFIRMED', 'HELD']);
    }
  });

  it('should not deadlock when one user pays the same two reservations listed in opposite orders', async () => {
    const buyers = await fansWithActiveTokens(apps[0], 25, concertId);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 50, price: PRICE });
    const pairs = await Promise.all(
      buyers.map(async (buyer, i) => {
        await charge(apps[0], buyer.userId, 4 * PRICE);
        return [
          await holdOne(buyer, schedule.id, schedule.seats[2 * i].id),
          await holdOne(buyer, schedule.id, schedule.seats[2 * i + 1].id),
        ];
      }),
    );

    const replies = await Promise.all(
      buyers.flatMap((buyer, i) => [
        pay(i, buyer, [pairs[i][0], pairs[i][1]]),
        pay(i + 1, buyer, [pairs[i][1], pairs[i][0]]),
      ]),
    );

    // Rows are locked in id order whatever the list order, so the second waits, then finds both
    // reservations CONFIRMED; no deadlock (which would surface as a 500).
    expect(tally(replies)).toEqual({ '201': 25, '409 RESERVATION_NOT_HELD': 25 });
    for (const buyer of buyers) {
      await expect(walletState(apps[0], buyer.userId)).resolves.toMatchObject({
        balance: 2 * PRICE,
      });
    }
  });

  it('should settle a payment racing its own cancellation one way or the other, never both', async () => {
    const buyers = await fansWithActiveTokens(apps[0], 30, concertId);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 30, price: PRICE });
    const holds = await Promise.all(
      buyers.map(async (buyer, i) => {
        await charge(apps[0], buyer.userId, PRICE);
        return holdOne(buyer, schedule.id, schedule.seats[i].id);
      }),
    );

    const outcomes = await Promise.all(
      buyers.map(async (buyer, i) => {
        const [paid, cancelled] = await Promise.all([
          pay(i, buyer, [holds[i]]),
          call(apps[(i + 1) % INSTANCES], 'DELETE', `/reservations/${holds[i]}`, {
            user: buyer.userId,
            token: buyer.token,
          }),
        ]);
        return { paid, cancelled };
      }),
    );

    for (const [i, { paid, cancelled }] of outcomes.entries()) {
      const state = await reservationState(holds[i]);
      const balance = (await walletState(apps[0], buyers[i].userId)).balance;
      if (paid.status === 201) {
        // The cancel came second: refused (409), or turned away because the payment had
        // already retired the token (401).
        expect([401, 409]).toContain(cancelled.status);
        expect({ state, balance }).toEqual({
          state: { status: 'CONFIRMED', payment_id: paid.body.id, seat_status: 'SOLD' },
          balance: 0,
        });
      } else {
        expect({ paid: paid.status, code: paid.body.code, cancelled: cancelled.status }).toEqual({
          paid: 409,
          code: 'RESERVATION_NOT_HELD',
          cancelled: 200,
        });
        expect({ state, balance }).toEqual({
          state: { status: 'CANCELLED', payment_id: null, seat_status: 'AVAILABLE' },
          balance: PRICE,
        });
      }
    }
  });

  it('should complete 200 fans’ payments on one 500-seat schedule, each once, with charges landing meanwhile', async () => {
    const buyers = await fansWithActiveTokens(apps[0], 200, concertId);
    const schedule = await createSchedule(apps[0], concertId, { seatCount: 500, price: PRICE });
    const holds = await Promise.all(
      buyers.map(async (buyer, i) => {
        await charge(apps[0], buyer.userId, PRICE);
        return holdOne(buyer, schedule.id, schedule.seats[(i * 7) % 500].id);
      }),
    );

    const [payments, charges] = await Promise.all([
      Promise.all(buyers.map((buyer, i) => pay(i, buyer, [holds[i]]))),
      // Every other fan's wallet also takes a charge while the payment runs.
      Promise.all(
        buyers
          .filter((_, i) => i % 2 === 0)
          .map((buyer, i) =>
            call(apps[(i + 2) % INSTANCES], 'POST', `/users/${buyer.userId}/cash/charges`, {
              user: buyer.userId,
              body: { amount: 1_000 },
            }),
          ),
      ),
    ]);

    expect(tally(payments)).toEqual({ '201': 200 });
    expect(tally(charges)).toEqual({ '200': 100 });
    const [sold] = await sql<{ sold: number }[]>(
      apps[0],
      "SELECT COUNT(*) AS sold FROM seats WHERE schedule_id = ? AND status = 'SOLD'",
      [schedule.id],
    );
    expect(Number(sold.sold)).toBe(200);
    for (const [i, buyer] of buyers.slice(0, 20).entries()) {
      const charged = i % 2 === 0 ? 1_000 : 0;
      await expect(walletState(apps[0], buyer.userId)).resolves.toEqual({
        balance: charged,
        ledgerSum: charged,
        entries: charged ? 3 : 2,
      });
    }
    // Each payer's token was retired; a fresh one works again (the queue is not stuck).
    const again = await activeTokenFor(apps[0], buyers[0].userId, concertId);
    expect(again).not.toBe(buyers[0].token);
  });
});
