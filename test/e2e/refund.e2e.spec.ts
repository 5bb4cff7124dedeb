import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { accessToken } from '../support/auth';
import {
  call,
  charge,
  Fan,
  fundedFan,
  holdSeat,
  payFor,
  refundPayment,
  Reply,
  useBookingApps,
} from '../support/booking';
import { expectWallet, walletState } from '../support/cash-invariants';
import { activeTokenFor } from '../support/queue';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

interface Purchase {
  buyer: Fan;
  concertId: number;
  paymentId: number;
  reservationIds: number[];
  seatIds: number[];
  amount: number;
  paid: Reply;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HOUR = 3_600_000;

/** The refund journey through the HTTP API: pay → refund → the seat on sale again, and every refusal. */
describe('refunds (e2e)', () => {
  const stage = useBookingApps(async () => [await startApp()]);

  const fan = (concertId: number, balance = 0): Promise<Fan> =>
    fundedFan(stage.app, concertId, balance);

  /** A schedule of `concertId` starting `startsInHours` from now, booking open until an hour before. */
  function scheduleStartingIn(
    concertId: number,
    startsInHours: number,
    overrides: Record<string, unknown> = {},
  ) {
    const now = Date.now();
    return createSchedule(stage.app, concertId, {
      startsAt: new Date(now + startsInHours * HOUR).toISOString(),
      bookingOpensAt: new Date(now - HOUR).toISOString(),
      bookingClosesAt: new Date(now + (startsInHours - 1) * HOUR).toISOString(),
      ...overrides,
    });
  }

  const hold = (who: Fan, scheduleId: number, seatId: number): Promise<Reply> =>
    holdSeat(stage.app, who, scheduleId, seatId);

  /** A fan with `balance` who holds these seats and pays them in one payment. */
  async function buy(
    concertId: number,
    seats: { scheduleId: number; seatId: number }[],
    balance = 500_000,
  ): Promise<Purchase> {
    const buyer = await fan(concertId, balance);
    const reservations: { id: number; price: number }[] = [];
    for (const seat of seats) {
      const held = await hold(buyer, seat.scheduleId, seat.seatId);
      expect(held.status).toBe(201);
      reservations.push(held.body);
    }
    const paid = await payFor(
      stage.app,
      buyer,
      reservations.map((r) => r.id),
    );
    expect(paid.status).toBe(201);
    return {
      buyer,
      concertId,
      paymentId: paid.body.id,
      reservationIds: reservations.map((r) => r.id).sort((a, b) => a - b),
      seatIds: seats.map((seat) => seat.seatId),
      amount: reservations.reduce((sum, r) => sum + r.price, 0),
      paid,
    };
  }

  /** One seat of a fresh schedule starting in a week, paid by a fresh fan. */
  async function buyOne(price = 50_000, balance = 500_000): Promise<Purchase> {
    const concertId = (await createConcert(stage.app)).id;
    const schedule = await createSchedule(stage.app, concertId, { seatCount: 2, price });
    return buy(concertId, [{ scheduleId: schedule.id, seatId: schedule.seats[0].id }], balance);
  }

  const refund = (
    userId: string | undefined,
    paymentId: number | string,
    key?: string,
    target = stage.app,
  ): Promise<Reply> => refundPayment(target, userId, paymentId, key);

  /** Payment, reservations, seats and wallet of a purchase, to prove an error changed nothing. */
  async function stateOf(purchase: Purchase) {
    const [payment] = await sql<{ status: string; refunded_at: Date | null }[]>(
      stage.app,
      'SELECT status, refunded_at FROM payments WHERE id = ?',
      [purchase.paymentId],
    );
    const rows = await sql<{ status: string; seat_status: string }[]>(
      stage.app,
      `SELECT r.status, s.status AS seat_status FROM reservations r JOIN seats s ON s.id = r.seat_id
        WHERE r.id IN (?) ORDER BY r.id`,
      [purchase.reservationIds],
    );
    return { payment, rows, wallet: await walletState(stage.app, purchase.buyer.userId) };
  }

  async function expectUnchanged(purchase: Purchase, balance: number) {
    await expect(stateOf(purchase)).resolves.toEqual({
      payment: { status: 'COMPLETED', refunded_at: null },
      rows: purchase.reservationIds.map(() => ({ status: 'CONFIRMED', seat_status: 'SOLD' })),
      wallet: { balance, ledgerSum: balance, entries: 2 },
    });
  }

  it('should refund a two-seat payment: money back, REFUND row, reservations REFUNDED, seats on sale again', async () => {
    const concertId = (await createConcert(stage.app)).id;
    const schedule = await createSchedule(stage.app, concertId, {
      seatCount: 3,
      prices: [40_000, 55_000, 70_000],
    });
    const purchase = await buy(
      concertId,
      [schedule.seats[2], schedule.seats[0]].map((seat) => ({
        scheduleId: schedule.id,
        seatId: seat.id,
      })),
      200_000,
    );
    expect(purchase.paid.body).toMatchObject({ status: 'COMPLETED', refundedAt: null });
    await expect(walletState(stage.app, purchase.buyer.userId)).resolves.toMatchObject({
      balance: 90_000,
    });

    const refunded = await refund(purchase.buyer.userId, purchase.paymentId);

    expect(refunded.status).toBe(200);
    expect(refunded.headers['idempotent-replayed']).toBeUndefined();
    expect(refunded.body).toEqual({
      id: purchase.paymentId,
      userId: purchase.buyer.userId,
      reservationIds: purchase.reservationIds,
      amount: 110_000,
      status: 'REFUNDED',
      paidAt: purchase.paid.body.paidAt,
      refundedAt: expect.stringMatching(ISO),
    });
    expect(Date.parse(refunded.body.refundedAt)).toBeGreaterThanOrEqual(
      Date.parse(refunded.body.paidAt),
    );
    await expect(stateOf(purchase)).resolves.toEqual({
      payment: { status: 'REFUNDED', refunded_at: new Date(refunded.body.refundedAt) },
      rows: [
        { status: 'REFUNDED', seat_status: 'AVAILABLE' },
        { status: 'REFUNDED', seat_status: 'AVAILABLE' },
      ],
      wallet: { balance: 200_000, ledgerSum: 200_000, entries: 3 },
    });
    const history = await call(stage.app, 'GET', '/users/me/cash/history', {
      user: purchase.buyer.userId,
    });
    expect(history.body.items[0]).toEqual({
      id: expect.any(Number),
      type: 'REFUND',
      amount: 110_000,
      balanceAfter: 200_000,
      createdAt: expect.stringMatching(ISO),
      paymentId: purchase.paymentId,
    });

    // The payment views show the refund.
    const read = await call(stage.app, 'GET', `/payments/${purchase.paymentId}`, {
      user: purchase.buyer.userId,
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ ...refunded.body, items: expect.any(Array) });
    expect(read.body.items).toHaveLength(2);
    const listed = await call(stage.app, 'GET', '/users/me/payments', {
      user: purchase.buyer.userId,
    });
    expect(listed.body[0]).toEqual(read.body);

    // The reservations read REFUNDED (with a live token: GET /reservations/{id} needs one).
    const token = await activeTokenFor(stage.app, purchase.buyer.userId, concertId);
    for (const id of purchase.reservationIds) {
      const reservation = await call(stage.app, 'GET', `/reservations/${id}`, {
        user: purchase.buyer.userId,
        token,
      });
      expect(reservation.body).toMatchObject({
        id,
        status: 'REFUNDED',
        paymentId: purchase.paymentId,
      });
    }

    // Anyone may take the seats again, and the original buyer may buy them back.
    const other = await fan(concertId, 100_000);
    const seats = await call(
      stage.app,
      'GET',
      `/concerts/${concertId}/schedules/${schedule.id}/seats`,
      {
        user: other.userId,
        token: other.token,
      },
    );
    expect(
      (seats.body as { id: number; status: string }[])
        .filter((seat) => purchase.seatIds.includes(seat.id))
        .map((seat) => seat.status),
    ).toEqual(['AVAILABLE', 'AVAILABLE']);
    const retaken = await hold(other, schedule.id, schedule.seats[2].id);
    expect(retaken.status).toBe(201);
    const repaid = await payFor(stage.app, other, [retaken.body.id]);
    expect(repaid.status).toBe(201);
    const back = await hold(
      { userId: purchase.buyer.userId, token },
      schedule.id,
      schedule.seats[0].id,
    );
    expect(back.status).toBe(201);
  });

  it('should answer 401 AUTH_TOKEN_INVALID without a valid bearer, and refund nothing', async () => {
    const purchase = await buyOne();

    const anonymous = await refund(undefined, purchase.paymentId);
    const expired = await call(stage.app, 'POST', `/payments/${purchase.paymentId}/refund`, {
      headers: {
        authorization: `Bearer ${await accessToken(purchase.buyer.userId, { expiresIn: -120 })}`,
      },
    });
    const readAnonymously = await call(stage.app, 'GET', `/payments/${purchase.paymentId}`);

    for (const reply of [anonymous, expired, readAnonymously]) {
      expectProblem(reply, 401, 'AUTH_TOKEN_INVALID');
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    await expectUnchanged(purchase, 450_000);
  });

  it("should answer 404 PAYMENT_NOT_FOUND for an unknown id and for someone else's payment, changing nothing", async () => {
    const purchase = await buyOne();
    const stranger = await signedUpUser(stage.app);
    await charge(stage.app, stranger.id, 10_000);

    for (const [userId, paymentId] of [
      [purchase.buyer.userId, 2_147_483_647],
      [stranger.id, purchase.paymentId],
    ] as const) {
      const refused = await refund(userId, paymentId);
      expectProblem(refused, 404, 'PAYMENT_NOT_FOUND');
      expect(refused.headers['content-type']).toMatch(/problem\+json/);
      // The same answer whether the payment exists or not: nothing about it leaks.
      expect(JSON.stringify(refused.body)).not.toContain(purchase.buyer.userId);
    }
    await expectUnchanged(purchase, 450_000);
    await expectWallet(stage.app, stranger.id, { balance: 10_000, entries: 1 });
  });

  it('should show GET /payments/{id} to its owner in any status and answer 404 to anyone else', async () => {
    const purchase = await buyOne(60_000);
    const stranger = await signedUpUser(stage.app);

    const own = await call(stage.app, 'GET', `/payments/${purchase.paymentId}`, {
      user: purchase.buyer.userId,
    });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({
      ...purchase.paid.body,
      items: [
        {
          reservationId: purchase.reservationIds[0],
          concertId: purchase.concertId,
          concertTitle: 'Test Concert',
          scheduleId: expect.any(Number),
          startsAt: expect.stringMatching(ISO),
          seatId: purchase.seatIds[0],
          seatNumber: 1,
          price: 60_000,
        },
      ],
    });
    expect(own.body).toMatchObject({ status: 'COMPLETED', refundedAt: null });

    for (const [userId, paymentId] of [
      [stranger.id, purchase.paymentId],
      [purchase.buyer.userId, 2_147_483_647],
    ] as const) {
      const hidden = await call(stage.app, 'GET', `/payments/${paymentId}`, { user: userId });
      expectProblem(hidden, 404, 'PAYMENT_NOT_FOUND');
    }

    expect((await refund(purchase.buyer.userId, purchase.paymentId)).status).toBe(200);
    const after = await call(stage.app, 'GET', `/payments/${purchase.paymentId}`, {
      user: purchase.buyer.userId,
    });
    expect(after.body).toMatchObject({
      status: 'REFUNDED',
      refundedAt: expect.stringMatching(ISO),
    });
    const stillHidden = await call(stage.app, 'GET', `/payments/${purchase.paymentId}`, {
      user: stranger.id,
    });
    expect(stillHidden.status).toBe(404);
  });

  it('should answer 409 PAYMENT_ALREADY_REFUNDED to a second refund and credit once', async () => {
    const purchase = await buyOne();
    const first = await refund(purchase.buyer.userId, purchase.paymentId);
    expect(first.status).toBe(200);

    const second = await refund(purchase.buyer.userId, purchase.paymentId);

    expectProblem(second, 409, 'PAYMENT_ALREADY_REFUNDED');
    await expect(stateOf(purchase)).resolves.toEqual({
      payment: { status: 'REFUNDED', refunded_at: new Date(first.body.refundedAt) },
      rows: [{ status: 'REFUNDED', seat_status: 'AVAILABLE' }],
      wallet: { balance: 500_000, ledgerSum: 500_000, entries: 3 },
    });
  });

  it('should answer 409 REFUND_WINDOW_CLOSED when the show starts within PAYMENT_REFUND_CUTOFF_HOURS, changing nothing', async () => {
    const concertId = (await createConcert(stage.app)).id;
    const soon = await scheduleStartingIn(concertId, 23, { seatCount: 2, price: 50_000 });
    const purchase = await buy(concertId, [{ scheduleId: soon.id, seatId: soon.seats[0].id }]);

    const refused = await refund(purchase.buyer.userId, purchase.paymentId);

    expectProblem(refused, 409, 'REFUND_WINDOW_CLOSED');
    expect(refused.body.detail).toMatch(/24 h before the show/);
    await expectUnchanged(purchase, 450_000);
  });

  it('should judge the window by the earliest of the schedules a payment bought seats in', async () => {
    const concertId = (await createConcert(stage.app)).id;
    const nextWeek = await scheduleStartingIn(concertId, 7 * 24, { seatCount: 1, price: 30_000 });
    const tomorrow = await scheduleStartingIn(concertId, 23, { seatCount: 1, price: 20_000 });
    const purchase = await buy(concertId, [
      { scheduleId: nextWeek.id, seatId: nextWeek.seats[0].id },
      { scheduleId: tomorrow.id, seatId: tomorrow.seats[0].id },
    ]);

    const refused = await refund(purchase.buyer.userId, purchase.paymentId);

    expectProblem(refused, 409, 'REFUND_WINDOW_CLOSED');
    await expectUnchanged(purchase, 450_000);

    // A postponed show moves the window with it: the live schedule counts, not the receipt copy.
    await sql(
      stage.app,
      'UPDATE concert_schedules SET starts_at = starts_at + INTERVAL 2 DAY WHERE id = ?',
      [tomorrow.id],
    );
    expect((await refund(purchase.buyer.userId, purchase.paymentId)).status).toBe(200);
  });

  it('should honour PAYMENT_REFUND_CUTOFF_HOURS: with 0 a show starting in 23 h is still refundable', async () => {
    const untilStart = await startApp({ PAYMENT_REFUND_CUTOFF_HOURS: '0' });
    try {
      const concertId = (await createConcert(stage.app)).id;
      const soon = await scheduleStartingIn(concertId, 23, { seatCount: 1, price: 50_000 });
      const purchase = await buy(concertId, [{ scheduleId: soon.id, seatId: soon.seats[0].id }]);
      expect((await refund(purchase.buyer.userId, purchase.paymentId)).body.code).toBe(
        'REFUND_WINDOW_CLOSED',
      );

      const refunded = await refund(
        purchase.buyer.userId,
        purchase.paymentId,
        undefined,
        untilStart,
      );

      expect([refunded.status, refunded.body.status]).toEqual([200, 'REFUNDED']);
    } finally {
      await untilStart.close();
    }
  });

  it('should reject malformed payment ids and Idempotency-Keys with 400 VALIDATION_FAILED, refunding nothing', async () => {
    const purchase = await buyOne();

    for (const id of ['0', '-1', 'abc', '01', '1e3', '0x10', '+1', '1.5', '2147483648', '%20']) {
      for (const reply of [
        await refund(purchase.buyer.userId, id),
        await call(stage.app, 'GET', `/payments/${id}`, { user: purchase.buyer.userId }),
      ]) {
        expect({ id, status: reply.status, code: reply.body.code }).toEqual({
          id,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    }
    for (const key of ['k'.repeat(65), 'with space', 'tab\tkey']) {
      const reply = await refund(purchase.buyer.userId, purchase.paymentId, key);
      expectProblem(reply, 400, 'VALIDATION_FAILED');
    }
    await expectUnchanged(purchase, 450_000);
    // Nothing was remembered for the refused keys.
    await expect(
      sql(stage.app, 'SELECT COUNT(*) AS n FROM idempotency_keys WHERE user_id = ?', [
        purchase.buyer.userId,
      ]),
    ).resolves.toEqual([{ n: 0 }]);
  });

  it('should replay the first 200 for the same Idempotency-Key without crediting twice, and 422 on another payment', async () => {
    const first = await buyOne(50_000);
    const key = 'refund-once';

    const refunded = await refund(first.buyer.userId, first.paymentId, key);
    const replayed = await refund(first.buyer.userId, first.paymentId, key);

    expect(refunded.status).toBe(200);
    expect(refunded.headers['idempotent-replayed']).toBeUndefined();
    expect(replayed.status).toBe(200);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(refunded.body);
    await expectWallet(stage.app, first.buyer.userId, { balance: 500_000, entries: 3 });
    // Without the key the same request is a second refund, and says so.
    const unkeyed = await refund(first.buyer.userId, first.paymentId);
    expectProblem(unkeyed, 409, 'PAYMENT_ALREADY_REFUNDED');

    // The same key for another payment of the same user is another request: 422, nothing moves.
    const concertId = (await createConcert(stage.app)).id;
    const schedule = await createSchedule(stage.app, concertId, { seatCount: 1, price: 30_000 });
    const token = await activeTokenFor(stage.app, first.buyer.userId, concertId);
    const held = await hold(
      { userId: first.buyer.userId, token },
      schedule.id,
      schedule.seats[0].id,
    );
    const paid = await payFor(stage.app, { userId: first.buyer.userId, token }, [held.body.id]);
    expect(paid.status).toBe(201);
    const reused = await refund(first.buyer.userId, paid.body.id, key);
    expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    await expect(walletState(stage.app, first.buyer.userId)).resolves.toMatchObject({
      balance: 470_000,
      entries: 4,
    });
    const second = await call(stage.app, 'GET', `/payments/${paid.body.id}`, {
      user: first.buyer.userId,
    });
    expect(second.body).toMatchObject({ status: 'COMPLETED', refundedAt: null });

    // Keys are per user: another user's identical key is theirs alone.
    const other = await buyOne(50_000);
    const theirs = await refund(other.buyer.userId, other.paymentId, key);
    expect([theirs.status, theirs.headers['idempotent-replayed']]).toEqual([200, undefined]);
  });

  it('should keep refund keys apart from payment keys (their own Idempotency-Key scope)', async () => {
    const concertId = (await createConcert(stage.app)).id;
    const schedule = await createSchedule(stage.app, concertId, { seatCount: 1, price: 50_000 });
    const buyer = await fan(concertId, 100_000);
    const held = await hold(buyer, schedule.id, schedule.seats[0].id);
    const paid = await payFor(stage.app, buyer, [held.body.id], 'shared-key');
    expect(paid.status).toBe(201);

    const refunded = await refund(buyer.userId, paid.body.id, 'shared-key');

    expect([refunded.status, refunded.body.status]).toEqual([200, 'REFUNDED']);
    expect(refunded.headers['idempotent-replayed']).toBeUndefined();
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({
      balance: 100_000,
      entries: 3,
    });
  });

  it('should credit a refund beyond the 100,000,000 balance limit, which still caps charges', async () => {
    const purchase = await buyOne(50_000, 100_000_000);
    await charge(stage.app, purchase.buyer.userId, 50_000);
    await expect(walletState(stage.app, purchase.buyer.userId)).resolves.toMatchObject({
      balance: 100_000_000,
    });

    const refunded = await refund(purchase.buyer.userId, purchase.paymentId);

    expect(refunded.status).toBe(200);
    await expect(walletState(stage.app, purchase.buyer.userId)).resolves.toMatchObject({
      balance: 100_050_000,
      ledgerSum: 100_050_000,
    });
    const capped = await call(stage.app, 'POST', '/users/me/cash/charges', {
      user: purchase.buyer.userId,
      body: { amount: 1 },
    });
    expectProblem(capped, 422, 'BALANCE_LIMIT_EXCEEDED');
  });

  it('should count refunds against RATE_LIMIT_USER_WRITES_PER_MINUTE (429 with Retry-After)', async () => {
    const limited = await startApp({ RATE_LIMIT_USER_WRITES_PER_MINUTE: '2' });
    try {
      const user = await signedUpUser(stage.app);
      const replies: Reply[] = [];
      for (let i = 0; i < 3; i++)
        replies.push(await refund(user.id, 2_147_483_647, undefined, limited));

      expect(replies.map((reply) => [reply.status, reply.body.code])).toEqual([
        [404, 'PAYMENT_NOT_FOUND'],
        [404, 'PAYMENT_NOT_FOUND'],
        [429, 'RATE_LIMITED'],
      ]);
      expect(Number(replies[2].headers['retry-after'])).toBeGreaterThan(0);
      // Reads are not writes: GET /payments/{id} is not limited.
      const read = await call(limited, 'GET', '/payments/2147483647', { user: user.id });
      expect(read.status).toBe(404);
    } finally {
      await limited.close();
    }
  });

  it('should document both endpoints in the OpenAPI document', async () => {
    const doc = await stage.app.inject({ method: 'GET', url: '/docs-json' });
    const paths = doc.json<{ paths: Record<string, Record<string, OpenApiOperation>> }>().paths;
    const refundOp = paths['/payments/{paymentId}/refund'].post;
    const getOp = paths['/payments/{paymentId}'].get;

    expect(Object.keys(refundOp.responses).sort()).toEqual(
      ['200', '400', '401', '404', '409', '422', '429', '500', '503'].sort(),
    );
    expect(JSON.stringify(refundOp.responses['409'])).toMatch(/PAYMENT_ALREADY_REFUNDED/);
    expect(JSON.stringify(refundOp.responses['409'])).toMatch(/REFUND_WINDOW_CLOSED/);
    expect(JSON.stringify(refundOp.responses['409'])).toMatch(/IDEMPOTENCY_KEY_IN_PROGRESS/);
    expect(refundOp.parameters.map((p) => p.name).sort()).toEqual(['Idempotency-Key', 'paymentId']);
    expect(refundOp.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(getOp.responses).sort()).toEqual(
      ['200', '400', '401', '404', '500', '503'].sort(),
    );
    expect(JSON.stringify(getOp.responses['404'])).toMatch(/PAYMENT_NOT_FOUND/);
    expect(getOp.security).toEqual([{ bearer: [] }]);
  });
});

interface OpenApiOperation {
  responses: Record<string, unknown>;
  parameters: { name: string }[];
  security: unknown[];
}
