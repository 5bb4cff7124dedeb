import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TransactionHost } from '../../src/common/database/transaction';
import { AuditScheduler } from '../../src/modules/audit/presentation/audit.scheduler';
import { AUDIT_RULES } from '../../src/modules/audit/domain/audit-rule';
import {
  AuditTimeLimitError,
  InvariantAuditRepository,
} from '../../src/modules/audit/domain/invariant-audit.repository';
import { createConcert, createSchedule, CreatedSchedule } from '../factories/catalogue.factory';
import { http, sql, startApp } from '../support/app';
import { expectAuditOk, getAudit, resetPeriodicAudit } from '../support/audit';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, charge, Fan, fansWithActiveTokens, RACE_ENV } from '../support/booking';
import { resetQueue } from '../support/queue';

/**
 * The invariant audit against real MariaDB/MySQL and Redis. A clean booking flow must pass it;
 * then each violation is planted by corrupting rows directly, reported under its rule with its
 * count and offending id, and repaired before the next test, so every test starts clean.
 */
describe('invariant audit (e2e)', () => {
  let app: NestFastifyApplication;
  let fans: Fan[];
  let schedule: CreatedSchedule;
  /** Fan 0 paid seats 0 and 1 in one payment; fan 1 holds seat 2; fan 2 cancelled seat 3. */
  let paymentId: number;
  let seatIds: number[];

  beforeAll(async () => {
    app = await startApp(RACE_ENV);
    await resetQueue(app);
    await resetPeriodicAudit(app);
    const concertId = (await createConcert(app)).id;
    schedule = await createSchedule(app, concertId, { seatCount: 8, price: 30_000 });
    seatIds = schedule.seats.map((seat) => seat.id);
    fans = await fansWithActiveTokens(app, 4, concertId);

    const hold = async (fan: Fan, seatId: number): Promise<number> => {
      const reply = await call(app, 'POST', '/reservations', {
        user: fan.userId,
        token: fan.token,
        body: { scheduleId: schedule.id, seatId },
      });
      if (reply.status !== 201) throw new Error(`hold answered ${reply.status}`);
      return (reply.body as { id: number }).id;
    };
    const paid = [await hold(fans[0], seatIds[0]), await hold(fans[0], seatIds[1])];
    await charge(app, fans[0].userId, 100_000);
    const payment = await call(app, 'POST', '/payments', {
      user: fans[0].userId,
      token: fans[0].token,
      body: { reservationIds: paid },
    });
    if (payment.status !== 201) throw new Error(`payment answered ${payment.status}`);
    paymentId = (payment.body as { id: number }).id;
    await hold(fans[1], seatIds[2]);
    const cancelled = await hold(fans[2], seatIds[3]);
    const cancel = await call(app, 'DELETE', `/reservations/${cancelled}`, {
      user: fans[2].userId,
      token: fans[2].token,
    });
    if (cancel.status !== 200) throw new Error(`cancel answered ${cancel.status}`);
    await charge(app, fans[3].userId, 5_000);
  });

  afterAll(async () => {
    await app.close();
  });

  /** Plants a corruption, hands over to the test, and always repairs it afterwards. */
  async function planted(corrupt: string[], repair: string[], check: () => Promise<void>) {
    for (const statement of corrupt) await sql(app, statement);
    try {
      await check();
    } finally {
      for (const statement of repair) await sql(app, statement);
    }
  }

  async function expectOnlyViolation(rule: string, count: number, examples: (number | string)[]) {
    const { status, body } = await getAudit(app);
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.violations).toEqual([{ rule, count, examples }]);
  }

  it('should answer ok with no violations after a clean booking flow', async () => {
    await assertBookingInvariants(app);
    const before = Date.now();
    const { status, body } = await getAudit(app);

    expect(status).toBe(200);
    expect(body).toEqual({ checkedAt: expect.any(String), ok: true, violations: [] });
    // The database clock; same box, so within a few seconds of this one.
    expect(Math.abs(Date.parse(body.checkedAt) - before)).toBeLessThan(5_000);
  });

  it('should answer 401 ADMIN_KEY_INVALID without the admin key or with a wrong one', async () => {
    for (const key of [null, 'not-the-admin-key-but-just-as-long-as-one']) {
      const { status, body } = await getAudit(app, key);
      expect(status).toBe(401);
      expect(body).toMatchObject({ code: 'ADMIN_KEY_INVALID' });
    }
  });

  it('should document the response, 401 and 503 in the OpenAPI document', async () => {
    const docs = await request(http(app)).get('/docs-json').expect(200);
    const operation = docs.body.paths['/admin/audit'].get;
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '401', '500', '503']),
    );
    expect(operation.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AuditResponse',
    });
    expect(docs.body.components.schemas.ViolationResponse.properties.rule.enum).toEqual([
      ...AUDIT_RULES,
    ]);
  });

  it('should report a SOLD seat without any reservation', async () => {
    const seat = seatIds[5];
    await planted(
      [`UPDATE seats SET status = 'SOLD' WHERE id = ${seat}`],
      [`UPDATE seats SET status = 'AVAILABLE' WHERE id = ${seat}`],
      () => expectOnlyViolation('sold_seat_without_one_paid_reservation', 1, [seat]),
    );
  });

  it('should report both SOLD seats of a payment that reads REFUNDED', async () => {
    await planted(
      [
        `UPDATE payments SET status = 'REFUNDED', refunded_at = UTC_TIMESTAMP(3) WHERE id = ${paymentId}`,
      ],
      [`UPDATE payments SET status = 'COMPLETED', refunded_at = NULL WHERE id = ${paymentId}`],
      () =>
        expectOnlyViolation('sold_seat_without_one_paid_reservation', 2, [seatIds[0], seatIds[1]]),
    );
  });

  it('should report a seat with two live reservations, and not count an expired hold', async () => {
    // The unique key on live_seat_id makes this impossible through SQL as the service writes it;
    // dropping it in this file's own database is the only way to plant the state.
    const insert = (status: string, expiresAt: string) =>
      `INSERT INTO reservations (user_id, schedule_id, seat_id, seat_number, price, status,
         expires_at, created_at, updated_at)
       VALUES ('${fans[3].userId}', ${schedule.id}, ${seatIds[0]}, 1, 30000, '${status}',
         ${expiresAt}, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`;
    await planted(
      [
        'ALTER TABLE reservations DROP INDEX uq_reservations_live_seat',
        insert('HELD', 'UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE'),
      ],
      [],
      async () => {
        // An expired hold beside the CONFIRMED one is not live: nothing to report yet.
        await expectAuditOk(app);
        await sql(app, insert('HELD', 'UTC_TIMESTAMP(3) + INTERVAL 5 MINUTE'));
        await expectOnlyViolation('seat_with_two_live_reservations', 1, [seatIds[0]]);
      },
    );
    await sql(
      app,
      `DELETE FROM reservations WHERE seat_id = ? AND user_id = ? AND status = 'HELD'`,
      [seatIds[0], fans[3].userId],
    );
    await sql(
      app,
      'ALTER TABLE reservations ADD UNIQUE KEY uq_reservations_live_seat (live_seat_id)',
    );
    await expectAuditOk(app);
  });

  it('should report a wallet whose balance is off its history by 1', async () => {
    const user = fans[3].userId;
    await planted(
      [`UPDATE cash_wallets SET balance = balance + 1 WHERE user_id = '${user}'`],
      [`UPDATE cash_wallets SET balance = balance - 1 WHERE user_id = '${user}'`],
      () => expectOnlyViolation('wallet_balance_differs_from_history', 1, [user]),
    );
  });

  it("should report a payment whose amount is not its reservations' sum", async () => {
    await planted(
      [`UPDATE payments SET amount = amount + 1 WHERE id = ${paymentId}`],
      [`UPDATE payments SET amount = amount - 1 WHERE id = ${paymentId}`],
      () => expectOnlyViolation('payment_amount_differs_from_reservations', 1, [paymentId]),
    );
  });

  it('should report a payment without any reservation', async () => {
    const { insertId } = await sql<{ insertId: number }>(
      app,
      `INSERT INTO payments (user_id, amount, status, paid_at, created_at)
       VALUES (?, 1000, 'COMPLETED', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
      [fans[3].userId],
    );
    await planted([], [`DELETE FROM payments WHERE id = ${insertId}`], () =>
      expectOnlyViolation('payment_amount_differs_from_reservations', 1, [insertId]),
    );
  });

  it('should report a seat HELD 11 s past its hold end, but not one 3 s past', async () => {
    const [{ hold }] = await sql<{ hold: Date }[]>(
      app,
      'SELECT hold_expires_at AS hold FROM seats WHERE id = ?',
      [seatIds[2]],
    );
    const expireNow = (seconds: number) =>
      `UPDATE seats s JOIN reservations r ON r.id = s.reservation_id
          SET s.hold_expires_at = UTC_TIMESTAMP(3) - INTERVAL ${seconds} SECOND,
              r.expires_at = UTC_TIMESTAMP(3) - INTERVAL ${seconds} SECOND
        WHERE s.id = ${seatIds[2]}`;
    await planted(
      [expireNow(3)],
      [
        `UPDATE seats s JOIN reservations r ON r.id = s.reservation_id
            SET s.hold_expires_at = ?, r.expires_at = ? WHERE s.id = ${seatIds[2]}`.replace(
          /\?/g,
          `'${hold.toISOString().slice(0, 23).replace('T', ' ')}'`,
        ),
      ],
      async () => {
        // Inside the grace the release job may simply not have run yet.
        await expectAuditOk(app);
        await sql(app, expireNow(11));
        await expectOnlyViolation('seat_held_past_hold_end', 1, [seatIds[2]]);
      },
    );
    await expectAuditOk(app);
  });

  it('should report every planted violation at once, each under its own rule', async () => {
    const user = fans[3].userId;
    await planted(
      [
        `UPDATE seats SET status = 'SOLD' WHERE id IN (${seatIds[5]}, ${seatIds[6]})`,
        `UPDATE cash_wallets SET balance = balance + 1 WHERE user_id = '${user}'`,
        `UPDATE payments SET amount = amount + 1 WHERE id = ${paymentId}`,
        `UPDATE seats SET hold_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE id = ${seatIds[2]}`,
      ],
      [
        `UPDATE seats SET status = 'AVAILABLE' WHERE id IN (${seatIds[5]}, ${seatIds[6]})`,
        `UPDATE cash_wallets SET balance = balance - 1 WHERE user_id = '${user}'`,
        `UPDATE payments SET amount = amount - 1 WHERE id = ${paymentId}`,
        `UPDATE seats s JOIN reservations r ON r.id = s.reservation_id
            SET s.hold_expires_at = r.expires_at WHERE s.id = ${seatIds[2]}`,
      ],
      async () => {
        const { status, body } = await getAudit(app);
        expect(status).toBe(200);
        expect(body.ok).toBe(false);
        expect(body.violations).toEqual([
          {
            rule: 'sold_seat_without_one_paid_reservation',
            count: 2,
            examples: [seatIds[5], seatIds[6]],
          },
          { rule: 'wallet_balance_differs_from_history', count: 1, examples: [user] },
          { rule: 'payment_amount_differs_from_reservations', count: 1, examples: [paymentId] },
          { rule: 'seat_held_past_hold_end', count: 1, examples: [seatIds[2]] },
        ]);
      },
    );
    await expectAuditOk(app);
  });

  it('should neither wait for nor see a write that is not committed', async () => {
    const writer = app.get(DataSource).createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      // Row locks on the seat and the wallet, and a change that would break two rules.
      await writer.query(`UPDATE seats SET status = 'SOLD' WHERE id = ?`, [seatIds[7]]);
      await writer.query('SELECT balance FROM cash_wallets WHERE user_id = ? FOR UPDATE', [
        fans[3].userId,
      ]);
      await writer.query('UPDATE cash_wallets SET balance = balance + 1 WHERE user_id = ?', [
        fans[3].userId,
      ]);

      const started = Date.now();
      await expectAuditOk(app);
      // Far below innodb_lock_wait_timeout: the audit took no lock to wait for.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await writer.rollbackTransaction();
      await writer.release();
    }
  });

  it('should count every offender but list only the lowest 5 ids', async () => {
    const free = seatIds.slice(4, 8);
    const extra = await createSchedule(app, schedule.concertId, { seatCount: 6 });
    const offenders = [...free, ...extra.seats.map((seat) => seat.id)].sort((a, b) => a - b);
    await planted(
      [`UPDATE seats SET status = 'SOLD' WHERE id IN (${offenders.join(',')})`],
      [`UPDATE seats SET status = 'AVAILABLE' WHERE id IN (${offenders.join(',')})`],
      () =>
        expectOnlyViolation('sold_seat_without_one_paid_reservation', 10, offenders.slice(0, 5)),
    );
  });

  describe('the periodic job', () => {
    let second: NestFastifyApplication;

    beforeAll(async () => {
      second = await startApp(RACE_ENV);
    });

    afterAll(async () => {
      await second.close();
    });

    beforeEach(async () => {
      await resetPeriodicAudit(app);
    });

    async function metricsOf(instance: NestFastifyApplication): Promise<string> {
      const response = await request(http(instance)).get('/metrics').expect(200);
      return response.text;
    }

    const violationsLine = (rule: string, value: number) =>
      `booking_invariant_violations{rule="${rule}"} ${value}`;

    it('should run once per period across instances and export the result on every instance', async () => {
      const user = fans[3].userId;
      await planted(
        [`UPDATE cash_wallets SET balance = balance + 1 WHERE user_id = '${user}'`],
        [`UPDATE cash_wallets SET balance = balance - 1 WHERE user_id = '${user}'`],
        async () => {
          const ticks = await Promise.all([
            app.get(AuditScheduler).tick(),
            second.get(AuditScheduler).tick(),
            app.get(AuditScheduler).tick(),
          ]);
          expect(ticks.filter((tick) => tick === 'ran')).toHaveLength(1);
          expect(ticks.filter((tick) => tick === 'skipped')).toHaveLength(2);

          for (const instance of [app, second]) {
            const text = await metricsOf(instance);
            for (const rule of AUDIT_RULES) {
              const expected = rule === 'wallet_balance_differs_from_history' ? 1 : 0;
              expect(text).toContain(violationsLine(rule, expected));
            }
            const success = /^booking_audit_last_success_timestamp_seconds (\S+)$/m.exec(text);
            expect(Math.abs(Number(success?.[1]) * 1000 - Date.now())).toBeLessThan(10_000);
            expect(text).toContain('booking_audit_unchecked_rules 0');
          }
          // Later ticks of the same period leave the database alone.
          expect(await second.get(AuditScheduler).tick()).toBe('skipped');
        },
      );
    });

    it('should export the repaired state from the next run', async () => {
      expect(await second.get(AuditScheduler).tick()).toBe('ran');
      const text = await metricsOf(app);
      for (const rule of AUDIT_RULES) expect(text).toContain(violationsLine(rule, 0));
    });
  });

  describe('the time limit', () => {
    let bulk: CreatedSchedule[];

    beforeAll(async () => {
      // 200,000 seats straight into MySQL (arranging only), 50,000 in each of four schedules, so
      // a full read of seats takes far longer than the 1 ms a statement is given below.
      bulk = await Promise.all(
        [0, 1, 2, 3].map(() => createSchedule(app, schedule.concertId, { seatCount: 1 })),
      );
      const digits = `(SELECT 0 AS n ${Array.from({ length: 9 }, (_, i) => `UNION ALL SELECT ${i + 1}`).join(' ')})`;
      for (const { id } of bulk) {
        await sql(
          app,
          `INSERT INTO seats (schedule_id, number, price, status, updated_at)
           SELECT ?, 2 + a.n * 10000 + b.n * 1000 + c.n * 100 + d.n * 10 + e.n, 1000, 'AVAILABLE',
                  UTC_TIMESTAMP(3)
             FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c
             CROSS JOIN ${digits} d CROSS JOIN ${digits} e
            WHERE a.n < 5`,
          [id],
        );
      }
    });

    afterAll(async () => {
      await sql(app, 'DELETE FROM seats WHERE schedule_id IN (?) AND number > 1', [
        bulk.map((s) => s.id),
      ]);
    });

    it('should have the database cancel a rule statement past its limit', async () => {
      const repository = app.get(InvariantAuditRepository);
      const outcome = await app.get(TransactionHost).withReadOnlySnapshot(async () => {
        const now = await repository.databaseNow();
        return repository
          .findViolations('seat_held_past_hold_end', now, { examples: 5, timeLimitMs: 1 })
          .catch((error: unknown) => error);
      });
      expect(outcome).toBeInstanceOf(AuditTimeLimitError);
    });

    it('should answer 503 naming the unchecked rules when the audit runs out of time', async () => {
      // 1 ms leaves no time to send any rule (the database cancelling one is the test above).
      const hurried = await startApp({ ...RACE_ENV, AUDIT_TIME_LIMIT_MS: '1' });
      try {
        const { status, body, headers } = await getAudit(hurried);
        expect(status).toBe(503);
        expect(body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
        expect((body as unknown as { detail: string }).detail).toMatch(/unchecked: .*seat/);
        expect(headers['retry-after']).toBe('30');
      } finally {
        await hurried.close();
      }
    });
  });
});
