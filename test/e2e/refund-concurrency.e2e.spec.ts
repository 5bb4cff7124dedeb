import { setTimeout as sleep } from 'node:timers/promises';
import { releaseExpiredHolds } from '../support/jobs';
import { createSchedule, CreatedSchedule } from '../factories/catalogue.factory';
import { sql } from '../support/app';
import {
  byKeyOutcome,
  charge,
  expireHoldsNow,
  Fan,
  fansWithActiveTokens,
  holdSeat,
  payFor,
  refundPayment,
  Reply,
  startCluster,
  tally,
  useBookingStage,
} from '../support/booking';
import { expectWallet, walletState } from '../support/cash-invariants';
import { activeTokenFor } from '../support/queue';
import { expectProblem } from '../support/assertions';

const PRICE = 50_000;

/**
 * Refunds raced across three app instances (one process, one MySQL, one Redis): against each
 * other, and against new holds of the freed seat and the hold-expiry job. The outcome must be
 * exact (one refund, one credit), nothing may deadlock (a deadlock or lock-wait timeout would
 * surface as 503), and the booking and ledger invariants must hold after every scenario.
 */
describe('refunds across instances', () => {
  const INSTANCES = 3;
  // The Redis seat lock off, so the database alone must keep a seat from being taken twice (the
  // refund never uses it). The expiry job gets real work from holds expired on purpose.
  const stage = useBookingStage(() => startCluster(INSTANCES, { RESERVATION_SEAT_LOCK: 'off' }));

  const on = (i: number) => stage.apps[i % INSTANCES];

  const hold = (i: number, fan: Fan, scheduleId: number, seatId: number): Promise<Reply> =>
    holdSeat(on(i), fan, scheduleId, seatId);

  const refund = (i: number, userId: string, paymentId: number, key?: string): Promise<Reply> =>
    refundPayment(on(i), userId, paymentId, key);

  /** Each fan holds its seat and pays it. */
  async function buyEach(
    buyers: Fan[],
    schedule: CreatedSchedule,
    seatIds: number[],
  ): Promise<number[]> {
    await Promise.all(buyers.map((buyer) => charge(stage.app, buyer.userId, PRICE)));
    return Promise.all(
      buyers.map(async (buyer, i) => {
        const held = await hold(i, buyer, schedule.id, seatIds[i]);
        expect(held.status).toBe(201);
        const paid = await payFor(on(i + 1), buyer, [held.body.id]);
        expect(paid.status).toBe(201);
        return paid.body.id as number;
      }),
    );
  }

  /** A fan who bought the first seat of a fresh schedule of `seatCount` seats. */
  async function buyerOfOneSeat(seatCount: number) {
    const schedule = await createSchedule(stage.app, stage.concertId, { seatCount, price: PRICE });
    const [buyer] = await fansWithActiveTokens(stage.app, 1, stage.concertId);
    const [paymentId] = await buyEach([buyer], schedule, [schedule.seats[0].id]);
    return { buyer, paymentId };
  }

  async function paymentRow(paymentId: number) {
    const [row] = await sql<{ status: string; refunded_at: Date | null }[]>(
      stage.app,
      'SELECT status, refunded_at FROM payments WHERE id = ?',
      [paymentId],
    );
    return row;
  }

  it('should let exactly one of 10 concurrent refunds of one payment through, crediting once', async () => {
    const { buyer, paymentId } = await buyerOfOneSeat(2);

    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => refund(i, buyer.userId, paymentId)),
    );

    // The losers waited on the reservation's row lock, then read the payment REFUNDED.
    expect(tally(replies)).toEqual({ '200': 1, '409 PAYMENT_ALREADY_REFUNDED': 9 });
    const winner = replies.find((reply) => reply.status === 200)!;
    expect(winner.body).toMatchObject({ id: paymentId, status: 'REFUNDED', amount: PRICE });
    await expect(paymentRow(paymentId)).resolves.toEqual({
      status: 'REFUNDED',
      refunded_at: new Date(winner.body.refundedAt),
    });
    // Charge + payment + exactly one refund; the balance is the ledger's sum.
    await expectWallet(stage.app, buyer.userId, { balance: PRICE, entries: 3 });
    await expect(
      sql(
        stage.app,
        `SELECT COUNT(*) AS n FROM cash_history WHERE payment_id = ? AND type = 'REFUND'`,
        [paymentId],
      ),
    ).resolves.toEqual([{ n: 1 }]);
  });

  it('should credit once and answer every racer with the same refund when 10 requests share one Idempotency-Key', async () => {
    const { buyer, paymentId } = await buyerOfOneSeat(1);

    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => refund(i, buyer.userId, paymentId, 'one-refund')),
    );

    const { fresh, replayed, inProgress } = byKeyOutcome(replies, 200);
    expect(fresh).toHaveLength(1);
    expect(fresh.length + replayed.length + inProgress.length).toBe(10);
    for (const reply of replayed) expect(reply.body).toEqual(fresh[0].body);
    const retry = await refund(1, buyer.userId, paymentId, 'one-refund');
    expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([200, 'true']);
    expect(retry.body).toEqual(fresh[0].body);
    await expectWallet(stage.app, buyer.userId, { balance: PRICE, entries: 3 });
  });

  /**
   * One round per paid seat S, with a spare seat X whose hold by someone else has run out. All at
   * once, spread over the instances:
   * - the buyer refunds S (locks: its reservation, the payment, the wallet, then seat S);
   * - two other fans keep trying to hold S (user row, then seat S) until it is free, so one of
   *   them takes it the moment the refund commits;
   * - the buyer holds X, retiring the run-out hold first (that reservation, the buyer's user row
   *   — which the refund's ledger insert also needs — then seat X);
   * - every instance runs the expiry job (run-out reservations, then their seats) over X and
   *   whatever holds earlier rounds left to run out.
   */
  async function arrangeRounds(rounds: number) {
    const schedule = await createSchedule(stage.app, stage.concertId, {
      seatCount: 2 * rounds,
      price: PRICE,
    });
    const fans = await fansWithActiveTokens(stage.app, 4 * rounds, stage.concertId);
    const buyers = fans.slice(0, rounds);
    const takers = fans.slice(rounds, 3 * rounds);
    const expirers = fans.slice(3 * rounds);
    const soldSeats = schedule.seats.slice(0, rounds).map((seat) => seat.id);
    const spareSeats = schedule.seats.slice(rounds).map((seat) => seat.id);

    const paymentIds = await buyEach(buyers, schedule, soldSeats);
    const lapsing = await Promise.all(
      expirers.map((fan, i) => hold(i, fan, schedule.id, spareSeats[i])),
    );
    expect(tally(lapsing)).toEqual({ '201': rounds });
    // The payments retired the buyers' tokens; they queue again to hold the spare seats.
    const rebuyers: Fan[] = [];
    for (const buyer of buyers) {
      rebuyers.push({
        userId: buyer.userId,
        token: await activeTokenFor(stage.app, buyer.userId, stage.concertId),
      });
    }
    // Expired, not yet released: the expiry job has work during the races.
    await expireHoldsNow(
      stage.app,
      lapsing.map((reply) => reply.body.id as number),
    );
    return { schedule, rebuyers, takers, paymentIds, soldSeats, spareSeats };
  }

  type Arranged = Awaited<ReturnType<typeof arrangeRounds>>;

  /**
   * Holds the seat until it works, or until an attempt that started after `done()` was refused
   * (the seat was freed and someone else has it). Every reply is kept.
   */
  async function holdWhenFree(
    i: number,
    fan: Fan,
    scheduleId: number,
    seatId: number,
    done: () => boolean,
  ): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (let attempt = 0; attempt < 500; attempt++) {
      const startedAfterRefund = done();
      const reply = await hold(i + attempt, fan, scheduleId, seatId);
      replies.push(reply);
      if (reply.status === 201 || reply.status >= 500 || startedAfterRefund) return replies;
      await sleep(2);
    }
    throw new Error(`seat ${seatId} never became holdable`);
  }

  async function race(arranged: Arranged, round: number) {
    const { schedule, rebuyers, takers, paymentIds, soldSeats, spareSeats } = arranged;
    const buyer = rebuyers[round];
    let refundDone = false;
    const refunding = refund(round, buyer.userId, paymentIds[round]).finally(() => {
      refundDone = true;
    });
    const settled = await Promise.allSettled([
      refunding,
      holdWhenFree(round + 1, takers[2 * round], schedule.id, soldSeats[round], () => refundDone),
      holdWhenFree(
        round + 2,
        takers[2 * round + 1],
        schedule.id,
        soldSeats[round],
        () => refundDone,
      ),
      hold(round + 2, buyer, schedule.id, spareSeats[round]),
      ...stage.apps.map((app) => releaseExpiredHolds(app)),
      sleep(5).then(() => releaseExpiredHolds(on(round))),
    ]);
    // A deadlock would be a rejected job run or a 503 answer, never silently absorbed.
    expect(settled.filter((result) => result.status === 'rejected')).toEqual([]);
    const value = <T>(index: number) => (settled[index] as PromiseFulfilledResult<T>).value;
    return {
      refunded: value<Reply>(0),
      takes: [value<Reply[]>(1), value<Reply[]>(2)],
      spare: value<Reply>(3),
    };
  }

  /**
   * What a round must leave: the payment refunded once, seat S taken by exactly one of the two
   * fans (only ever refused with 409 before that), X held by the buyer, no 5xx anywhere.
   */
  async function settle(
    arranged: Arranged,
    round: number,
    outcome: Awaited<ReturnType<typeof race>>,
  ) {
    const { paymentIds, soldSeats, takers } = arranged;
    const all = [outcome.refunded, outcome.spare, ...outcome.takes.flat()];
    expect(all.filter((reply) => reply.status >= 500)).toEqual([]);
    expect(outcome.refunded.status).toBe(200);
    expect(outcome.spare.status).toBe(201);
    const winners = outcome.takes.filter((replies) => replies.at(-1)!.status === 201);
    expect(winners).toHaveLength(1);
    for (const reply of outcome.takes.flat().filter((r) => r.status !== 201)) {
      expectProblem(reply, 409, 'SEAT_UNAVAILABLE');
    }
    const holders = await sql<{ user_id: string; status: string }[]>(
      stage.app,
      `SELECT user_id, status FROM reservations WHERE seat_id = ? AND status IN ('HELD', 'CONFIRMED')`,
      [soldSeats[round]],
    );
    // Still HELD by the winner, or already run out and expired by the job: never two.
    expect(holders.length).toBeLessThanOrEqual(1);
    if (holders.length === 1) {
      expect([takers[2 * round].userId, takers[2 * round + 1].userId]).toContain(
        holders[0].user_id,
      );
    }
    await expect(paymentRow(paymentIds[round])).resolves.toMatchObject({ status: 'REFUNDED' });
  }

  function attemptsOf(outcomes: Awaited<ReturnType<typeof race>>[]): Record<string, number> {
    return tally(outcomes.flatMap((outcome) => outcome.takes.flat()));
  }

  it('should never deadlock or double-hold when refunds race holds of their seats and the expiry job, round after round', async () => {
    const rounds = 15;
    const arranged = await arrangeRounds(rounds);
    const outcomes: Awaited<ReturnType<typeof race>>[] = [];

    for (let round = 0; round < rounds; round++) {
      const outcome = await race(arranged, round);
      await settle(arranged, round, outcome);
      outcomes.push(outcome);
    }
    console.log(
      `hold attempts on refunded seats, ${rounds} rounds: ${JSON.stringify(attemptsOf(outcomes))}`,
    );

    for (const buyer of arranged.rebuyers) {
      await expect(walletState(stage.app, buyer.userId)).resolves.toMatchObject({
        balance: PRICE,
        ledgerSum: PRICE,
      });
    }
  });

  it('should never deadlock or double-hold when all those races run at the same moment', async () => {
    const rounds = 12;
    const arranged = await arrangeRounds(rounds);

    const outcomes = await Promise.all(
      Array.from({ length: rounds }, (_, round) => race(arranged, round)),
    );

    for (let round = 0; round < rounds; round++) await settle(arranged, round, outcomes[round]);
    console.log(
      `hold attempts on refunded seats, ${rounds} at once: ${JSON.stringify(attemptsOf(outcomes))}`,
    );
    const [{ refunded }] = await sql<{ refunded: number }[]>(
      stage.app,
      `SELECT COUNT(*) AS refunded FROM payments WHERE id IN (?) AND status = 'REFUNDED'`,
      [arranged.paymentIds],
    );
    expect(Number(refunded)).toBe(rounds);
  });
});
