import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { expectProblem } from '../support/assertions';
import {
  call,
  charge,
  expireHoldsNow,
  Fan,
  fundedFan,
  holdSeat,
  payFor,
  Reply,
  useBookingApps,
} from '../support/booking';
import { expectWallet, walletState } from '../support/cash-invariants';
import { activeTokenFor, resetQueue, runAdmission } from '../support/queue';
import { signedUpUser } from '../factories/user.factory';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The checkout journey through the HTTP API: hold → pay → receipt, and every refusal. */
describe('payments (e2e)', () => {
  const stage = useBookingApps(async () => [await startApp()]);

  const fan = (concertId: number, balance = 0, target = stage.app): Promise<Fan> =>
    fundedFan(target, concertId, balance);

  async function hold(who: Fan, scheduleId: number, seatId: number, target = stage.app) {
    const reply = await holdSeat(target, who, scheduleId, seatId);
    expect(reply.status).toBe(201);
    return reply.body as { id: number; seatId: number; price: number };
  }

  const pay = (
    who: Fan,
    reservationIds: unknown,
    key?: string,
    target = stage.app,
  ): Promise<Reply> => payFor(target, who, reservationIds, key);

  async function rowsOf(reservationIds: number[]) {
    return sql<{ id: number; status: string; payment_id: number | null; seat_status: string }[]>(
      stage.app,
      `SELECT r.id, r.status, r.payment_id, s.status AS seat_status
         FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id IN (?) ORDER BY r.id`,
      [reservationIds],
    );
  }

  /** Two fans with 100,000 each and their holds of the two seats of a fresh schedule. */
  async function twoHolders() {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const fans = [await fan(concertId, 100_000), await fan(concertId, 100_000)];
    const holds = [
      await hold(fans[0], schedule.id, schedule.seats[0].id),
      await hold(fans[1], schedule.id, schedule.seats[1].id),
    ];
    return [
      [fans[0], holds[0]],
      [fans[1], holds[1]],
    ] as const;
  }

  /** Refused payments left every hold HELD, each wallet at its one charge, and no payment row. */
  async function expectNothingPaid(heldIds: number[], userIds: string[], charged: number) {
    await expect(rowsOf(heldIds)).resolves.toEqual(
      heldIds.map((id) => ({ id, status: 'HELD', payment_id: null, seat_status: 'HELD' })),
    );
    for (const userId of userIds) {
      await expectWallet(stage.app, userId, { balance: charged, entries: 1 });
    }
    await expect(
      sql(stage.app, 'SELECT id FROM payments WHERE user_id IN (?)', [userIds]),
    ).resolves.toEqual([]);
  }

  it('should pay two reservations at once, debit the sum and sell both seats when the balance covers it', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, {
      seatCount: 4,
      prices: [40_000, 55_000, 70_000, 90_000],
    });
    const buyer = await fan(concertId, 200_000);
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
      refundedAt: null,
    });
    await expect(rowsOf([first.id, second.id])).resolves.toEqual([
      { id: first.id, status: 'CONFIRMED', payment_id: paid.body.id, seat_status: 'SOLD' },
      { id: second.id, status: 'CONFIRMED', payment_id: paid.body.id, seat_status: 'SOLD' },
    ]);
    await expectWallet(stage.app, buyer.userId, { balance: 55_000, entries: 2 });
    const history = await call(stage.app, 'GET', `/users/${buyer.userId}/cash/history`, {
      user: buyer.userId,
    });
    expect(history.body.items[0]).toMatchObject({
      type: 'PAYMENT',
      amount: -145_000,
      balanceAfter: 55_000,
      paymentId: paid.body.id,
    });

    const listed = await call(stage.app, 'GET', `/users/${buyer.userId}/payments`, {
      user: buyer.userId,
    });
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
    await sql(stage.app, "UPDATE concerts SET title = 'Renamed' WHERE id = ?", [concertId]);
    const again = await call(stage.app, 'GET', '/users/me/payments', { user: buyer.userId });
    expect(again.body[0].items[0].concertTitle).toBe('Test Concert');
  });

  it('should expire the payer’s queue token after the payment, so it answers 401', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const buyer = await fan(concertId, 100_000);
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);
    expect((await pay(buyer, [held.id])).status).toBe(201);

    const status = await call(stage.app, 'GET', '/queue/status', { token: buyer.token });
    expectProblem(status, 401, 'QUEUE_TOKEN_INVALID');
    const next = await holdSeat(stage.app, buyer, schedule.id, schedule.seats[1].id);
    expectProblem(next, 401, 'QUEUE_TOKEN_INVALID');
  });

  it('should answer 422 INSUFFICIENT_BALANCE and change nothing when the balance is short', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, {
      seatCount: 2,
      price: 50_000,
    });
    const buyer = await fan(concertId, 49_999);
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);

    const refused = await pay(buyer, [held.id]);

    expectProblem(refused, 422, 'INSUFFICIENT_BALANCE');
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    await expect(rowsOf([held.id])).resolves.toEqual([
      { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expectWallet(stage.app, buyer.userId, { balance: 49_999, entries: 1 });
    await expect(
      sql(stage.app, 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
    ).resolves.toEqual([]);
    // The token was not spent: one more won and the same hold pays.
    await charge(stage.app, buyer.userId, 1);
    expect((await pay(buyer, [held.id])).status).toBe(201);
  });

  it("should answer 404 RESERVATION_NOT_FOUND for someone else's or a missing reservation, and change nothing", async () => {
    // The thief comes with their own bearer and their own ACTIVE token.
    const [[owner, held], [thief, own]] = await twoHolders();

    for (const ids of [[held.id], [own.id, held.id], [own.id, 2_147_483_647]]) {
      const refused = await pay(thief, ids);
      expectProblem(refused, 404, 'RESERVATION_NOT_FOUND');
    }
    await expectNothingPaid([held.id, own.id], [owner.userId, thief.userId], 100_000);
    // The refusals did not spend the thief's token: their own hold still pays.
    expect((await pay(thief, [own.id])).status).toBe(201);
  });

  it("should answer 401 QUEUE_TOKEN_INVALID to a bearer paying with someone else's queue token, and change nothing", async () => {
    const [[owner, ownerHold], [borrower, borrowerHold]] = await twoHolders();
    // The borrower's bearer with the owner's ACTIVE token.
    const borrowed: Fan = { userId: borrower.userId, token: owner.token };

    for (const [ids, key] of [
      [[borrowerHold.id], undefined],
      [[ownerHold.id], undefined],
      [[borrowerHold.id], 'borrowed-1'],
    ] as const) {
      const refused = await pay(borrowed, ids, key);
      expectProblem(refused, 401, 'QUEUE_TOKEN_INVALID');
    }

    await expectNothingPaid(
      [ownerHold.id, borrowerHold.id],
      [owner.userId, borrower.userId],
      100_000,
    );
    // Neither token was spent, and the key was not remembered for anyone.
    expect((await pay(owner, [ownerHold.id])).status).toBe(201);
    const own = await pay(borrower, [borrowerHold.id], 'borrowed-1');
    expect(own.status).toBe(201);
    expect(own.headers['idempotent-replayed']).toBeUndefined();
  });

  it('should answer 409 RESERVATION_NOT_HELD when the reservation is already paid or cancelled', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const buyer = await fan(concertId, 200_000);
    const paidHold = await hold(buyer, schedule.id, schedule.seats[0].id);
    const cancelledHold = await hold(buyer, schedule.id, schedule.seats[1].id);
    const cancelled = await call(stage.app, 'DELETE', `/reservations/${cancelledHold.id}`, {
      user: buyer.userId,
      token: buyer.token,
    });
    expect(cancelled.status).toBe(200);
    expect((await pay(buyer, [paidHold.id])).status).toBe(201);
    const balance = (await walletState(stage.app, buyer.userId)).balance;

    // The payment spent the token; the user queues again for another go.
    const again: Fan = {
      ...buyer,
      token: await activeTokenFor(stage.app, buyer.userId, concertId),
    };
    for (const ids of [[paidHold.id], [cancelledHold.id]]) {
      const refused = await pay(again, ids);
      expectProblem(refused, 409, 'RESERVATION_NOT_HELD');
    }
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({ balance });
  });

  it('should replay the first 201 to a retry with the same key and the token the payment expired', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const buyer = await fan(concertId, 100_000);
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);
    const first = await pay(buyer, [held.id], 'checkout-1');
    expect(first.status).toBe(201);

    // The connection dropped; the client retries with the same key, body and (now dead) token.
    const retry = await pay(buyer, [held.id], 'checkout-1');

    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({
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
      expectProblem(refused, 401, 'QUEUE_TOKEN_INVALID');
    }
    // Someone else's dead token cannot read this user's stored payment.
    const other = await fan(concertId, 100_000);
    const otherHold = await hold(other, schedule.id, schedule.seats[1].id);
    expect((await pay(other, [otherHold.id], 'mine')).status).toBe(201);
    const foreign = await pay(other, [held.id], 'checkout-1');
    expectProblem(foreign, 401, 'QUEUE_TOKEN_INVALID');
  });

  it("should answer 401 to another user's bearer replaying the payer's key, body and retired token, paying nothing twice", async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const payer = await fan(concertId, 100_000);
    const other = await fan(concertId, 100_000);
    const held = await hold(payer, schedule.id, schedule.seats[0].id);
    const first = await pay(payer, [held.id], 'checkout-a');
    expect(first.status).toBe(201);

    // The owner's retry with the retired token is answered with the stored 201 …
    const retry = await pay(payer, [held.id], 'checkout-a');
    expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(retry.body).toEqual(first.body);
    // … the same key, body and retired token under another user's bearer are not.
    const foreign = await pay(
      { userId: other.userId, token: payer.token },
      [held.id],
      'checkout-a',
    );
    expectProblem(foreign, 401, 'QUEUE_TOKEN_INVALID');
    expect(foreign.headers['idempotent-replayed']).toBeUndefined();
    // Nothing of the payment leaks (the random request id may contain any digits).
    const { requestId: _requestId, ...leakable } = foreign.body as Record<string, unknown>;
    expect(JSON.stringify(leakable)).not.toContain(String(first.body.id));

    await expect(rowsOf([held.id])).resolves.toEqual([
      { id: held.id, status: 'CONFIRMED', payment_id: first.body.id, seat_status: 'SOLD' },
    ]);
    await expect(
      sql(stage.app, 'SELECT id, user_id FROM payments WHERE user_id IN (?)', [
        [payer.userId, other.userId],
      ]),
    ).resolves.toEqual([{ id: first.body.id, user_id: payer.userId }]);
    await expectWallet(stage.app, payer.userId, { balance: 50_000, entries: 2 });
    await expectWallet(stage.app, other.userId, { balance: 100_000, entries: 1 });
    // Even with the other user's own live token the key is theirs alone: nothing to replay.
    const otherHold = await hold(other, schedule.id, schedule.seats[1].id);
    const own = await pay(other, [otherHold.id], 'checkout-a');
    expect([own.status, own.headers['idempotent-replayed']]).toEqual([201, undefined]);
  });

  it('should answer 422 IDEMPOTENCY_KEY_REUSED when a key comes back with a different body', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const buyer = await fan(concertId, 200_000);
    const first = await hold(buyer, schedule.id, schedule.seats[0].id);
    expect((await pay(buyer, [first.id], 'same-key')).status).toBe(201);
    const again: Fan = {
      ...buyer,
      token: await activeTokenFor(stage.app, buyer.userId, concertId),
    };
    const second = await hold(again, schedule.id, schedule.seats[1].id);

    const refused = await pay(again, [second.id], 'same-key');

    expectProblem(refused, 422, 'IDEMPOTENCY_KEY_REUSED');
    await expect(rowsOf([second.id])).resolves.toEqual([
      { id: second.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({ balance: 150_000 });
    // The same key with the first body replays even with the new, live token.
    const replay = await pay(again, [first.id], 'same-key');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('should reject bad input with 400 VALIDATION_FAILED and remember nothing', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 1 });
    const buyer = await fan(concertId, 100_000);
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
      const reply = await call(stage.app, 'POST', '/payments', {
        user: buyer.userId,
        token: buyer.token,
        body,
      });
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
    const noToken = await call(stage.app, 'POST', '/payments', {
      user: buyer.userId,
      body: { reservationIds: [held.id] },
    });
    expectProblem(noToken, 401, 'QUEUE_TOKEN_INVALID');
    const noBearer = await call(stage.app, 'POST', '/payments', {
      token: buyer.token,
      body: { reservationIds: [held.id] },
    });
    expectProblem(noBearer, 401, 'AUTH_TOKEN_INVALID');

    await expect(rowsOf([held.id])).resolves.toEqual([
      { id: held.id, status: 'HELD', payment_id: null, seat_status: 'HELD' },
    ]);
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({ balance: 100_000 });
    expect((await pay(buyer, [held.id], 'k'.repeat(64))).status).toBe(201);
  });

  it("should list the caller's payments newest first, [] for a user with none, 404 for any other id", async () => {
    const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
    const buyer = await fan(concertId, 300_000);
    const first = await hold(buyer, schedule.id, schedule.seats[0].id);
    const older = await pay(buyer, [first.id]);
    const again: Fan = {
      ...buyer,
      token: await activeTokenFor(stage.app, buyer.userId, concertId),
    };
    const second = await hold(again, schedule.id, schedule.seats[1].id);
    const newer = await pay(again, [second.id]);

    const listed = await call(stage.app, 'GET', `/users/${buyer.userId}/payments`, {
      user: buyer.userId,
    });
    expect(listed.body.map((p: { id: number }) => p.id)).toEqual([newer.body.id, older.body.id]);
    const viaMe = await call(stage.app, 'GET', '/users/me/payments', { user: buyer.userId });
    expect(viaMe).toMatchObject({ status: 200, body: listed.body });

    const nobody = await signedUpUser(stage.app);
    await expect(
      call(stage.app, 'GET', `/users/${nobody.id}/payments`, { user: nobody.id }),
    ).resolves.toMatchObject({ status: 200, body: [] });
    // Another user's id, existing or not, is 404 alike: no hint whether it exists.
    for (const [caller, id] of [
      [nobody.id, buyer.userId],
      [buyer.userId, nobody.id],
      [buyer.userId, '6f1c1a52-3c55-4d53-9b43-1e7f0d0f9a11'],
    ]) {
      const refused = await call(stage.app, 'GET', `/users/${id}/payments`, { user: caller });
      expectProblem(refused, 404, 'USER_NOT_FOUND');
    }
    const invalid = await call(stage.app, 'GET', '/users/not-a-uuid/payments', {
      user: buyer.userId,
    });
    expect(invalid.status).toBe(400);
    const anonymous = await call(stage.app, 'GET', `/users/${buyer.userId}/payments`);
    expectProblem(anonymous, 401, 'AUTH_TOKEN_INVALID');
  });

  describe('when the hold ran out', () => {
    it('should answer 410 RESERVATION_EXPIRED and leave the balance alone', async () => {
      const { concertId, schedule } = await createConcertWithSchedule(stage.app, { seatCount: 2 });
      const buyer = await fan(concertId, 100_000);
      const held = await hold(buyer, schedule.id, schedule.seats[0].id);
      await expireHoldsNow(stage.app, [held.id]);

      const refused = await pay(buyer, [held.id]);

      expectProblem(refused, 410, 'RESERVATION_EXPIRED');
      await expectWallet(stage.app, buyer.userId, { balance: 100_000, entries: 1 });
      await expect(
        sql(stage.app, 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
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
      const { concertId, schedule } = await createConcertWithSchedule(oneSlot, { seatCount: 1 });
      const buyer = await fan(concertId, 100_000, oneSlot);
      const waiting = await signedUpUser(oneSlot);
      const issued = await call(oneSlot, 'POST', '/queue/tokens', {
        user: waiting.id,
        body: { concertId },
      });
      expect(issued.status).toBe(201);
      await runAdmission(oneSlot);
      const before = await call(oneSlot, 'GET', '/queue/status', { token: issued.body.token });
      expect(before.body).toMatchObject({ status: 'WAITING', position: 1 });

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
