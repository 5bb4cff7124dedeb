import { createSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import {
  byKeyOutcome,
  call,
  charge,
  Fan,
  fansWithActiveTokens,
  holdSeat,
  payFor,
  Reply,
  startCluster,
  tally,
  useBookingStage,
} from '../support/booking';
import { expectWallet, walletState } from '../support/cash-invariants';
import { activeTokenFor } from '../support/queue';

/**
 * Payments raced across several app instances (one process, one MySQL, one Redis). The outcome
 * must be exact: one payment per reservation, one debit, and the booking and ledger invariants
 * intact after every scenario.
 */
describe('payments across instances', () => {
  const INSTANCES = 4;
  const PRICE = 50_000;
  const stage = useBookingStage(() => startCluster(INSTANCES), { audit: true });

  async function holdOne(fan: Fan, scheduleId: number, seatId: number): Promise<number> {
    const reply = await holdSeat(stage.app, fan, scheduleId, seatId);
    expect(reply.status).toBe(201);
    return (reply.body as { id: number }).id;
  }

  interface Holdings {
    seatCount: number;
    balance: number;
    seats: (i: number) => number[];
  }

  /**
   * `count` fans of a fresh schedule of `seatCount` seats at PRICE, each charged `balance`, then
   * holding one after the other the seats `seats(i)` gives for the i-th fan (by index).
   */
  async function fansHolding(count: number, { seatCount, balance, seats }: Holdings) {
    const buyers = await fansWithActiveTokens(stage.app, count, stage.concertId);
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount, price: PRICE });
    const holds = await Promise.all(
      buyers.map(async (buyer, i) => {
        await charge(stage.app, buyer.userId, balance);
        const ids: number[] = [];
        for (const seat of seats(i)) {
          ids.push(await holdOne(buyer, schedule.id, schedule.seats[seat].id));
        }
        return ids;
      }),
    );
    return { buyers, schedule, holds };
  }

  /** One fan with 10 × PRICE, holding seat `seat` of a fresh 5-seat schedule. */
  async function buyerHolding(seat: number) {
    const { buyers, holds } = await fansHolding(1, {
      seatCount: 5,
      balance: 10 * PRICE,
      seats: () => [seat],
    });
    return { buyer: buyers[0], reservationId: holds[0][0] };
  }

  const pay = (i: number, fan: Fan, reservationIds: number[], key?: string): Promise<Reply> =>
    payFor(stage.apps[i % INSTANCES], fan, reservationIds, key);

  async function reservationState(id: number) {
    const [row] = await sql<{ status: string; payment_id: number | null; seat_status: string }[]>(
      stage.app,
      `SELECT r.status, r.payment_id, s.status AS seat_status
         FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id = ?`,
      [id],
    );
    return row;
  }

  it('should let exactly one of 20 concurrent payments for one reservation through, debiting once', async () => {
    const { buyer, reservationId } = await buyerHolding(2);

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
    await expectWallet(stage.app, buyer.userId, { balance: 9 * PRICE, entries: 2 });
    await expect(
      sql(stage.app, 'SELECT id FROM payments WHERE user_id = ?', [buyer.userId]),
    ).resolves.toEqual([{ id: winner.body.id }]);
  });

  it('should debit once and answer every racer with the same payment when 20 requests share one Idempotency-Key', async () => {
    const { buyer, reservationId } = await buyerHolding(0);

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pay(i, buyer, [reservationId], 'one-checkout')),
    );

    const { fresh, replayed, inProgress } = byKeyOutcome(replies, 201);
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
    await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({
      balance: 9 * PRICE,
      entries: 2,
    });
    await expect(reservationState(reservationId)).resolves.toMatchObject({
      status: 'CONFIRMED',
      seat_status: 'SOLD',
    });
  });

  it('should never overdraw: two concurrent payments that each fit the balance but not both', async () => {
    const { buyers, holds: pairs } = await fansHolding(20, {
      seatCount: 40,
      balance: PRICE + 1,
      seats: (i) => [2 * i, 2 * i + 1],
    });

    const replies = await Promise.all(
      buyers.flatMap((buyer, i) => [
        pay(i, buyer, [pairs[i][0]]),
        pay(i + 1, buyer, [pairs[i][1]]),
      ]),
    );

    expect(tally(replies)).toEqual({ '201': 20, '422 INSUFFICIENT_BALANCE': 20 });
    for (const [i, buyer] of buyers.entries()) {
      await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({ balance: 1 });
      const states = await Promise.all(pairs[i].map((id) => reservationState(id)));
      expect(states.map((state) => state.status).sort()).toEqual(['CONFIRMED', 'HELD']);
    }
  });

  it('should not deadlock when one user pays the same two reservations listed in opposite orders', async () => {
    const { buyers, holds: pairs } = await fansHolding(25, {
      seatCount: 50,
      balance: 4 * PRICE,
      seats: (i) => [2 * i, 2 * i + 1],
    });

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
      await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({
        balance: 2 * PRICE,
      });
    }
  });

  it('should settle a payment racing its own cancellation one way or the other, never both', async () => {
    const arranged = await fansHolding(30, { seatCount: 30, balance: PRICE, seats: (i) => [i] });
    const { buyers } = arranged;
    const holds = arranged.holds.flat();

    const outcomes = await Promise.all(
      buyers.map(async (buyer, i) => {
        const [paid, cancelled] = await Promise.all([
          pay(i, buyer, [holds[i]]),
          call(stage.apps[(i + 1) % INSTANCES], 'DELETE', `/reservations/${holds[i]}`, {
            user: buyer.userId,
            token: buyer.token,
          }),
        ]);
        return { paid, cancelled };
      }),
    );

    for (const [i, { paid, cancelled }] of outcomes.entries()) {
      const state = await reservationState(holds[i]);
      const balance = (await walletState(stage.app, buyers[i].userId)).balance;
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
    const arranged = await fansHolding(200, {
      seatCount: 500,
      balance: PRICE,
      seats: (i) => [(i * 7) % 500],
    });
    const { buyers, schedule } = arranged;
    const holds = arranged.holds.flat();

    const [payments, charges] = await Promise.all([
      Promise.all(buyers.map((buyer, i) => pay(i, buyer, [holds[i]]))),
      // Every other fan's wallet also takes a charge while the payment runs.
      Promise.all(
        buyers
          .filter((_, i) => i % 2 === 0)
          .map((buyer, i) =>
            call(stage.apps[(i + 2) % INSTANCES], 'POST', `/users/${buyer.userId}/cash/charges`, {
              user: buyer.userId,
              body: { amount: 1_000 },
            }),
          ),
      ),
    ]);

    expect(tally(payments)).toEqual({ '201': 200 });
    expect(tally(charges)).toEqual({ '200': 100 });
    const [sold] = await sql<{ sold: number }[]>(
      stage.app,
      "SELECT COUNT(*) AS sold FROM seats WHERE schedule_id = ? AND status = 'SOLD'",
      [schedule.id],
    );
    expect(Number(sold.sold)).toBe(200);
    for (const [i, buyer] of buyers.slice(0, 20).entries()) {
      const charged = i % 2 === 0 ? 1_000 : 0;
      await expectWallet(stage.app, buyer.userId, { balance: charged, entries: charged ? 3 : 2 });
    }
    // Each payer's token was retired; a fresh one works again (the queue is not stuck).
    const again = await activeTokenFor(stage.app, buyers[0].userId, stage.concertId);
    expect(again).not.toBe(buyers[0].token);
  });
});
