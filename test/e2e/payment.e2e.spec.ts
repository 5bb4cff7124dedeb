import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConcertWithSchedule, createUser } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, charge, Reply } from '../support/booking';
import { walletState } from '../support/cash-invariants';
import { activeTokenFor, resetQueue, runAdmission } from '../support/queue';

interface Fan {
  userId: string;
  token: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The checkout journey through the HTTP API: hold → pay → receipt, and every refusal. */
describe('payments (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  afterEach(async () => {
    await assertBookingInvariants(app);
  });

  async function fan(target = app, balance = 0): Promise<Fan> {
    const user = await createUser(target);
    if (balance > 0) await charge(target, user.id, balance);
    return { userId: user.id, token: await activeTokenFor(target, user.id) };
  }

  async function hold(who: Fan, scheduleId: number, seatId: number, target = app) {
    const reply = await call(target, 'POST', '/reservations', {
      token: who.token,
      body: { scheduleId, seatId },
    });
    expect(reply.status).toBe(201);
    return reply.body as { id: number; seatId: number; price: number };
  }

  function pay(who: Fan, reservationIds: unknown, key?: string, target = app): Promise<Reply> {
    return call(target, 'POST', '/payments', {
      token: who.token,
      body: { reservationIds },
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  }

  async function rowsOf(reservationIds: number[]) {
    return sql<{ id: number; status: string; payment_id: number | null; seat_status: string }[]>(
      app,
      `SELECT r.id, r.status, r.payment_id, s.status AS seat_status
         FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id IN (?) ORDER BY r.id`,
      [reservationIds],
    );
  }

  it('should pay two reservations at once, debit the sum and sell both seats when the balance covers it', async () => {
    const buyer = await fan(app, 200_000);
    const { concertId, schedule } = await createConcertWithSchedule(app, {
      seatCount: 4,
      prices: [40_000, 55_000, 70_000, 90_000],
    });
    const first = await hold(buyer, schedule.id, schedule.seats[1].id);
    const second = await hold(buyer, schedule.id, schedule.seats[3].id);

    const paid = await pay(buyer, [second.id, first.id]);

    expect(paid.status).toBe(201);
    expect(paid.headers['idempotent-replayed']).toBeUndefined();
    expect(paid.body).toEqual({
      id: expect.any(Number),
      userId: buyer.userId,
      reservationIds: [first.id, second.id],
      amount: 145_000,
      status: 'COMPLETED',
      paidAt: expect.stringMatching(ISO),
    });
    await expect(rowsOf([first.id, second.id])).resolves.toEqual([
      { id: first.id, status: 'CONFIRMED', payment_id: paid.body.id, seat_status: 'SOLD' },
      { id: second.id, status: 'CONFIRMED', payment_id: paid.body.id, seat_status: 'SOLD' },
    ]);
    await expect(walletState(app, buyer.userId)).resolves.toEqual({
      balance: 55_000,
      ledgerSum: 55_000,
      entries: 2,
    });
    const history = await call(app, 'GET', `/users/${buyer.userId}/cash/history`);
    expect(history.body.items[0]).toMatchObject({
      type: 'PAYMENT',
      amount: -145_000,
      balanceAfter: 55_000,
      paymentId: paid.body.id,
    });

    const listed = await call(app, 'GET', `/users/${buyer.userId}/payments`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      {
        ...paid.body,
        items: [
          {
            reservationId: first.id,
            concertId,
            concertTitle: 'Test Concert',
            scheduleId: schedule.id,
            startsAt: expect.stringMatching(ISO),
            seatId: schedule.seats[1].id,
            seatNumber: 2,
            price: 55_000,
          },
          {
            reservationId: second.id,
            concertId,
            concertTitle: 'Test Concert',
            scheduleId: schedule.id,
            startsAt: expect.stringMatching(ISO),
            seatId: schedule.seats[3].id,
            seatNumber: 4,
            price: 90_000,
          },
        ],
      },
    ]);

    // The receipt is a copy: renaming the concert later does not rewrite what was bought.
    await sql(app, "UPDATE concerts SET title = 'Renamed' WHERE id = ?", [concertId]);
    const again = await call(app, 'GET', `/users/${buyer.userId}/payments`);
    expect(again.body[0].items[0].concertTitle).toBe('Test Concert');
  });

  it('should expire the payer’s queue token after the payment, so it answers 401', async () => {
    const buyer = await fan(app, 100_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);
    expect((await pay(buyer, [held.id])).status).toBe(201);

    const status = await call(app, 'GET', '/queue/status', { token: buyer.token });
    expect(status.status).toBe(401);
    expect(status.body.code).toBe('QUEUE_TOKEN_INVALID');
    const next = await call(app, 'POST', '/reservations', {
      token: buyer.token,
      body: { scheduleId: schedule.id, seatId: schedule.seats[1].id },
    });
    expect(next.status).toBe(401);
  });

  it('should answer 422 INSUFFICIENT_BALANCE and change nothing when the balance is short', async () => {
    const buyer = await fan(app, 49_999);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2, price: 50_000 });
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);

    const refused = await pay(buyer, [held.id]);

    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('INSUFFICIENT_BALANCE');
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    await expect(rowsOf([held.id])).resolves.toEqual([
      { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(app, buyer.userId)).resolves.toEqual({
      balance: 49_999,
      ledgerSum: 49_999,
      entries: 1,
    });
    await expect(
      sql(app, 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
    ).resolves.toEqual([]);
    // The token was not spent: one more won and the same hold pays.
    await charge(app, buyer.userId, 1);
    expect((await pay(buyer, [held.id])).status).toBe(201);
  });

  it("should answer 404 RESERVATION_NOT_FOUND for someone else's or a missing reservation, and change nothing", async () => {
    const owner = await fan(app, 100_000);
    const thief = await fan(app, 100_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const held = await hold(owner, schedule.id, schedule.seats[0].id);
    const own = await hold(thief, schedule.id, schedule.seats[1].id);

    for (const ids of [[held.id], [own.id, held.id], [own.id, 2_147_483_647]]) {
      const refused = await pay(thief, ids);
      expect(refused.status).toBe(404);
      expect(refused.body.code).toBe('RESERVATION_NOT_FOUND');
    }
    await expect(rowsOf([held.id, own.id])).resolves.toEqual([
      { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
      { id: own.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(app, thief.userId)).resolves.toMatchObject({ balance: 100_000 });
  });

  it('should answer 409 RESERVATION_NOT_HELD when the reservation is already paid or cancelled', async () => {
    const buyer = await fan(app, 200_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const paidHold = await hold(buyer, schedule.id, schedule.seats[0].id);
    const cancelledHold = await hold(buyer, schedule.id, schedule.seats[1].id);
    await call(app, 'DELETE', `/reservations/${cancelledHold.id}`, { token: buyer.token });
    expect((await pay(buyer, [paidHold.id])).status).toBe(201);
    const balance = (await walletState(app, buyer.userId)).balance;

    // The payment spent the token; the user queues again for another go.
    const again: Fan = { ...buyer, token: await activeTokenFor(app, buyer.userId) };
    for (const ids of [[paidHold.id], [cancelledHold.id]]) {
      const refused = await pay(again, ids);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('RESERVATION_NOT_HELD');
    }
    await expect(walletState(app, buyer.userId)).resolves.toMatchObject({ balance });
  });

  it('should replay the first 201 to a retry with the same key and the token the payment expired', async () => {
    const buyer = await fan(app, 100_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);
    const first = await pay(buyer, [held.id], 'checkout-1');
    expect(first.status).toBe(201);

    // The connection dropped; the client retries with the same key, body and (now dead) token.
    const retry = await pay(buyer, [held.id], 'checkout-1');

    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    await expect(walletState(app, buyer.userId)).resolves.toMatchObject({
      balance: 50_000,
      entries: 2,
    });
    // Not a retry: no key, another key, or another body → the dead token is just dead.
    for (const [ids, key] of [
      [[held.id], undefined],
      [[held.id], 'checkout-2'],
      [[held.id, 1], 'checkout-1'],
    ] as const) {
      const refused = await pay(buyer, ids, key);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('QUEUE_TOKEN_INVALID');
    }
    // Someone else's dead token cannot read this user's stored payment.
    const other = await fan(app, 100_000);
    const otherHold = await hold(other, schedule.id, schedule.seats[1].id);
    expect((await pay(other, [otherHold.id], 'mine')).status).toBe(201);
    const foreign = await pay(other, [held.id], 'checkout-1');
    expect(foreign.status).toBe(401);
  });

  it('should answer 422 IDEMPOTENCY_KEY_REUSED when a key comes back with a different body', async () => {
    const buyer = await fan(app, 200_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const first = await hold(buyer, schedule.id, schedule.seats[0].id);
    expect((await pay(buyer, [first.id], 'same-key')).status).toBe(201);
    const again: Fan = { ...buyer, token: await activeTokenFor(app, buyer.userId) };
    const second = await hold(again, schedule.id, schedule.seats[1].id);

    const refused = await pay(again, [second.id], 'same-key');

    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    await expect(rowsOf([second.id])).resolves.toEqual([
      { id: second.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(app, buyer.userId)).resolves.toMatchObject({ balance: 150_000 });
    // The same key with the first body replays even with the new, live token.
    const replay = await pay(again, [first.id], 'same-key');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('should reject bad input with 400 VALIDATION_FAILED and remember nothing', async () => {
    const buyer = await fan(app, 100_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 1 });
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);

    const bodies: unknown[] = [
      {},
      { reservationIds: [] },
      { reservationIds: [1, 2, 3, 4, 5] },
      { reservationIds: [held.id, held.id] },
      { reservationIds: [String(held.id)] },
      { reservationIds: ['abc'] },
      { reservationIds: [0] },
      { reservationIds: [-held.id] },
      { reservationIds: [1.5] },
      { reservationIds: [2_147_483_648] },
      { reservationIds: held.id },
      { reservationIds: [held.id], extra: true },
      [held.id],
    ];
    for (const body of bodies) {
      const reply = await call(app, 'POST', '/payments', { token: buyer.token, body });
      expect({ body, status: reply.status, code: reply.body.code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const longKey = await pay(buyer, [held.id], 'k'.repeat(65));
    expect(longKey.status).toBe(400);
    expect(longKey.body.errors).toEqual([
      { field: 'Idempotency-Key', message: expect.any(String) },
    ]);
    const noToken = await call(app, 'POST', '/payments', { body: { reservationIds: [held.id] } });
    expect(noToken.status).toBe(401);

    await expect(rowsOf([held.id])).resolves.toEqual([
      { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(app, buyer.userId)).resolves.toMatchObject({ balance: 100_000 });
    expect((await pay(buyer, [held.id], 'k'.repeat(64))).status).toBe(201);
  });

  it('should list payments newest first, [] for a user with none, 404 for an unknown user', async () => {
    const buyer = await fan(app, 300_000);
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const first = await hold(buyer, schedule.id, schedule.seats[0].id);
    const older = await pay(buyer, [first.id]);
    const again: Fan = { ...buyer, token: await activeTokenFor(app, buyer.userId) };
    const second = await hold(again, schedule.id, schedule.seats[1].id);
    const newer = await pay(again, [second.id]);

    const listed = await call(app, 'GET', `/users/${buyer.userId}/payments`);
    expect(listed.body.map((p: { id: number }) => p.id)).toEqual([newer.body.id, older.body.id]);

    const nobody = await createUser(app);
    await expect(call(app, 'GET', `/users/${nobody.id}/payments`)).resolves.toMatchObject({
      status: 200,
      body: [],
    });
    const unknown = await call(app, 'GET', '/users/6f1c1a52-3c55-4d53-9b43-1e7f0d0f9a11/payments');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('USER_NOT_FOUND');
    const invalid = await call(app, 'GET', '/users/not-a-uuid/payments');
    expect(invalid.status).toBe(400);
  });

  describe('with 1-second holds', () => {
    let shortHolds: NestFastifyApplication;

    beforeAll(async () => {
      shortHolds = await startApp({ RESERVATION_HOLD_SECONDS: '1' });
    });

    afterAll(async () => {
      await shortHolds.close();
    });

    it('should answer 410 RESERVATION_EXPIRED and leave the balance alone when the hold ran out', async () => {
      const buyer = await fan(shortHolds, 100_000);
      const { schedule } = await createConcertWithSchedule(shortHolds, { seatCount: 2 });
      const held = await hold(buyer, schedule.id, schedule.seats[0].id, shortHolds);
      await sleep(1_200);

      const refused = await pay(buyer, [held.id], undefined, shortHolds);

      expect(refused.status).toBe(410);
      expect(refused.body.code).toBe('RESERVATION_EXPIRED');
      await expect(walletState(app, buyer.userId)).resolves.toEqual({
        balance: 100_000,
        ledgerSum: 100_000,
        entries: 1,
      });
      await expect(
        sql(app, 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
      ).resolves.toEqual([]);
      await expect(rowsOf([held.id])).resolves.toEqual([
        // The release job has not run (JOBS_ENABLED=false): stored HELD, but past its expiry.
        { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
      ]);
    });
  });

  describe('with one ACTIVE slot', () => {
    let oneSlot: NestFastifyApplication;

    beforeAll(async () => {
      oneSlot = await startApp({ QUEUE_MAX_ACTIVE_USERS: '1' });
    });

    afterAll(async () => {
      await oneSlot.close();
    });

    it('should admit the next waiting user once a payment frees the payer’s slot', async () => {
      await resetQueue(oneSlot);
      const buyer = await fan(oneSlot, 100_000);
      const waiting = await createUser(oneSlot);
      const issued = await call(oneSlot, 'POST', '/queue/tokens', {
        body: { userId: waiting.id },
      });
      await runAdmission(oneSlot);
      const before = await call(oneSlot, 'GET', '/queue/status', { token: issued.body.token });
      expect(before.body).toMatchObject({ status: 'WAITING', position: 1 });

      const { schedule } = await createConcertWithSchedule(oneSlot, { seatCount: 1 });
      const held = await hold(buyer, schedule.id, schedule.seats[0].id, oneSlot);
      expect((await pay(buyer, [held.id], undefined, oneSlot)).status).toBe(201);
      await runAdmission(oneSlot);

      const after = await call(oneSlot, 'GET', '/queue/status', { token: issued.body.token });
      expect(after.body).toMatchObject({ status: 'ACTIVE', position: 0 });
      const metrics = await oneSlot.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/^payments_total 1$/m);
      expect(metrics.body).toMatch(/^payment_amount_krw_total 50000$/m);
      expect(metrics.body).toMatch(/^queue_tokens_expired_total 1$/m);
      await resetQueue(oneSlot);
    });
  });
});
