import { INestApplicationContext } from '@nestjs/common';
import { TransactionHost } from '../../src/common/database/transaction';
import Redis from 'ioredis';
import { DomainError } from '../../src/common/errors/domain-error';
import { fingerprint } from '../../src/common/idempotency/fingerprint';
import { idempotencyMarkerKey } from '../../src/common/idempotency/idempotency.constants';
import { IdempotencyPurgeScheduler } from '../../src/common/idempotency/idempotency-purge.scheduler';
import {
  IdempotencyService,
  IdempotentResult,
} from '../../src/common/idempotency/idempotency.service';
import { CashModule } from '../../src/modules/cash/cash.module';
import { CashService } from '../../src/modules/cash/domain/cash.service';
import { storedUsers } from '../factories/user.factory';
import { sql } from '../support/app';
import { codeOf } from '../support/assertions';
import { assertCashInvariants, walletState } from '../support/cash-invariants';
import { transactionsWaitingForLocks } from '../support/mysql';
import { eventually } from '../support/eventually';
import { startModules } from '../support/modules';

/**
 * The cash domain service and the idempotency mechanism against real MySQL and Redis, as the
 * payment facade uses them: inside a transaction the caller owns.
 */
describe('CashService and IdempotencyService (integration)', () => {
  let app: INestApplicationContext;
  let cash: CashService;
  let idempotency: IdempotencyService;
  let txHost: TransactionHost;

  beforeAll(async () => {
    app = await startModules([CashModule]);
    cash = app.get(CashService);
    idempotency = app.get(IdempotencyService);
    txHost = app.get<TransactionHost>(TransactionHost);
  });

  afterEach(async () => {
    await assertCashInvariants(app);
  });

  afterAll(async () => {
    await app.close();
  });

  async function userWithBalance(balance: number): Promise<string> {
    const [id] = await storedUsers(app, 1, { wallets: true });
    if (balance > 0) await txHost.withTransaction(() => cash.charge(id, balance));
    return id;
  }

  describe('debitForPayment', () => {
    it('should debit and append a PAYMENT row in the caller transaction when the balance covers it', async () => {
      const userId = await userWithBalance(100_000);

      const result = await txHost.withTransaction(() => cash.debitForPayment(userId, 30_000, 9001));

      expect(result).toEqual({ balance: 70_000 });
      await expect(cash.getBalance(userId)).resolves.toBe(70_000);
      const rows = await sql(
        app,
        'SELECT type, amount, balance_after, payment_id FROM cash_history WHERE user_id = ? ORDER BY id',
        [userId],
      );
      expect(rows).toEqual([
        { type: 'CHARGE', amount: 100_000, balance_after: 100_000, payment_id: null },
        { type: 'PAYMENT', amount: -30_000, balance_after: 70_000, payment_id: 9001 },
      ]);
    });

    it('should allow debiting the balance down to exactly zero', async () => {
      const userId = await userWithBalance(50_000);
      await expect(
        txHost.withTransaction(() => cash.debitForPayment(userId, 50_000, 9002)),
      ).resolves.toEqual({ balance: 0 });
      await expect(walletState(app, userId)).resolves.toEqual({
        balance: 0,
        ledgerSum: 0,
        entries: 2,
      });
    });

    it('should throw INSUFFICIENT_BALANCE and write nothing when the balance does not cover it', async () => {
      const userId = await userWithBalance(10_000);

      const code = await codeOf(
        txHost.withTransaction(() => cash.debitForPayment(userId, 10_001, 9003)),
      );

      expect(code).toBe('INSUFFICIENT_BALANCE');
      await expect(walletState(app, userId)).resolves.toEqual({
        balance: 10_000,
        ledgerSum: 10_000,
        entries: 1,
      });
    });

    it('should undo the debit when the caller transaction fails after it', async () => {
      const userId = await userWithBalance(10_000);

      await expect(
        txHost.withTransaction(async () => {
          await cash.debitForPayment(userId, 4_000, 9004);
          throw new Error('seat update failed');
        }),
      ).rejects.toThrow('seat update failed');
      await expect(walletState(app, userId)).resolves.toEqual({
        balance: 10_000,
        ledgerSum: 10_000,
        entries: 1,
      });
    });

    it('should never overdraw when 20 concurrent debits race for a balance covering 5', async () => {
      const userId = await userWithBalance(50_000);

      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          txHost.withTransaction(() => cash.debitForPayment(userId, 10_000, 9100 + i)),
        ),
      );

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      const refusals = results.filter((r) => r.status === 'rejected');
      expect(refusals).toHaveLength(15);
      for (const refusal of refusals) {
        expect((refusal.reason as DomainError).code).toBe('INSUFFICIENT_BALANCE');
      }
      await expect(walletState(app, userId)).resolves.toEqual({
        balance: 0,
        ledgerSum: 0,
        entries: 6,
      });
    });

    it('should throw USER_NOT_FOUND when the user has no wallet', async () => {
      const code = await codeOf(
        txHost.withTransaction(() =>
          cash.debitForPayment('6f1c1a52-0d6e-4c1e-9d5b-0c8a1d0e0f11', 1, 9005),
        ),
      );
      expect(code).toBe('USER_NOT_FOUND');
    });
  });

  describe('chargeIfNeverUsed (seed)', () => {
    it('should top up a fresh wallet once and never again when run twice', async () => {
      const userId = await userWithBalance(0);
      await expect(
        txHost.withTransaction(() => cash.chargeIfNeverUsed(userId, 500_000)),
      ).resolves.toBe(true);
      await expect(
        txHost.withTransaction(() => cash.chargeIfNeverUsed(userId, 500_000)),
      ).resolves.toBe(false);
      await expect(cash.getBalance(userId)).resolves.toBe(500_000);
    });
  });

  describe('IdempotencyService', () => {
    const scope = 'test.effect';

    /** An effect we can count: one CHARGE of 1 KRW per run, returning a JSON body. */
    function effect(userId: string, runs: { count: number }) {
      return () => {
        runs.count += 1;
        return txHost.withTransaction(async () => ({
          userId,
          balance: await cash.charge(userId, 1),
        }));
      };
    }

    it('should run once and replay the stored body when the same key and body come again', async () => {
      const userId = await userWithBalance(0);
      const runs = { count: 0 };
      const request = { userId, scope, key: 'k-1', body: { amount: 1, list: [1, 2] } };

      const first = await idempotency.execute(request, 201, effect(userId, runs));
      const again = await idempotency.execute(
        { ...request, body: { list: [1, 2], amount: 1 } },
        201,
        effect(userId, runs),
      );

      expect(first).toEqual(new IdempotentResult(201, { userId, balance: 1 }, false));
      expect(again).toEqual(new IdempotentResult(201, { userId, balance: 1 }, true));
      expect(runs.count).toBe(1);
      await expect(idempotency.findReplay(request)).resolves.toEqual(again);
      const [row] = await sql<{ fp: string; hours: number }[]>(
        app,
        `SELECT request_fingerprint AS fp, TIMESTAMPDIFF(HOUR, created_at, expires_at) AS hours
           FROM idempotency_keys WHERE user_id = ? AND scope = ? AND idem_key = 'k-1'`,
        [userId, scope],
      );
      expect(row).toEqual({ fp: fingerprint({ amount: 1, list: [1, 2] }), hours: 24 });
    });

    it('should answer IDEMPOTENCY_KEY_REUSED when the same key comes with another body', async () => {
      const userId = await userWithBalance(0);
      const runs = { count: 0 };
      await idempotency.execute(
        { userId, scope, key: 'k', body: { a: 1 } },
        200,
        effect(userId, runs),
      );

      const request = { userId, scope, key: 'k', body: { a: 2 } };
      await expect(codeOf(idempotency.execute(request, 200, effect(userId, runs)))).resolves.toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
      await expect(codeOf(idempotency.findReplay(request))).resolves.toBe('IDEMPOTENCY_KEY_REUSED');
      expect(runs.count).toBe(1);
    });

    it('should keep keys apart per user and per scope', async () => {
      const [alice, bob] = [await userWithBalance(0), await userWithBalance(0)];
      const runs = { count: 0 };
      await idempotency.execute(
        { userId: alice, scope, key: 'same', body: {} },
        200,
        effect(alice, runs),
      );
      await idempotency.execute(
        { userId: bob, scope, key: 'same', body: {} },
        200,
        effect(bob, runs),
      );
      await idempotency.execute(
        { userId: alice, scope: 'test.other', key: 'same', body: {} },
        200,
        effect(alice, runs),
      );
      expect(runs.count).toBe(3);
    });

    it('should remember nothing when the work fails, so a retry runs again', async () => {
      const userId = await userWithBalance(0);
      const request = { userId, scope, key: 'fails-once', body: {} };

      const code = await codeOf(
        idempotency.execute(request, 200, () =>
          txHost.withTransaction(async () => {
            await cash.charge(userId, 5);
            throw new DomainError('BALANCE_LIMIT_EXCEEDED', 'refused');
          }),
        ),
      );
      const retry = await idempotency.execute(request, 200, effect(userId, { count: 0 }));

      expect(code).toBe('BALANCE_LIMIT_EXCEEDED');
      expect(retry.replayed).toBe(false);
      await expect(walletState(app, userId)).resolves.toMatchObject({ balance: 1, entries: 1 });
    });

    it('should answer IDEMPOTENCY_KEY_IN_PROGRESS at once while the first request runs', async () => {
      const userId = await userWithBalance(0);
      const request = { userId, scope, key: 'slow', body: {} };
      let finish!: () => void;
      const gate = new Promise<void>((resolve) => (finish = resolve));
      const runs = { count: 0 };

      let entered!: () => void;
      const working = new Promise<void>((resolve) => (entered = resolve));
      const first = idempotency.execute(request, 200, async () => {
        entered();
        await gate;
        return effect(userId, runs)();
      });
      await working;
      const startedAt = Date.now();
      const secondCode = await codeOf(idempotency.execute(request, 200, effect(userId, runs)));
      const elapsed = Date.now() - startedAt;
      finish();

      expect(secondCode).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      expect(elapsed).toBeLessThan(1000);
      await expect(first).resolves.toMatchObject({ replayed: false });
      await expect(idempotency.execute(request, 200, effect(userId, runs))).resolves.toMatchObject({
        replayed: true,
        body: { userId, balance: 1 },
      });
      expect(runs.count).toBe(1);
    });

    it('should still run the effect once when the Redis marker is lost mid-request', async () => {
      const userId = await userWithBalance(0);
      const request = { userId, scope, key: 'marker-lost', body: {} };
      const redis = app.get(Redis);
      let finish!: () => void;
      const gate = new Promise<void>((resolve) => (finish = resolve));
      const runs = { count: 0 };

      let charged!: () => void;
      const claimed = new Promise<void>((resolve) => (charged = resolve));
      const first = idempotency.execute(request, 200, () =>
        txHost.withTransaction(async () => {
          runs.count += 1;
          const balance = await cash.charge(userId, 1);
          charged();
          await gate; // the claim row is written but not committed
          return { userId, balance };
        }),
      );
      await claimed;
      // As if Redis restarted or the marker's TTL ran out: only MySQL's unique key is left.
      await redis.del(idempotencyMarkerKey(userId, scope, 'marker-lost'));
      const second = idempotency.execute(request, 200, effect(userId, runs));
      // The duplicate's claim insert waits on the first claim's uncommitted unique key.
      await eventually(async () => expect(await transactionsWaitingForLocks(app)).toBe(1));
      finish();

      const [a, b] = await Promise.all([first, second]);
      expect([a.replayed, b.replayed]).toEqual([false, true]);
      expect(b.body).toEqual(a.body);
      expect(runs.count).toBe(1);
      await expect(walletState(app, userId)).resolves.toMatchObject({ balance: 1, entries: 1 });
    });

    it('should forget an expired key, reuse it and let the purge job delete old rows', async () => {
      const userId = await userWithBalance(0);
      const runs = { count: 0 };
      const request = { userId, scope, key: 'old', body: { v: 1 } };
      await idempotency.execute(request, 200, effect(userId, runs));
      await sql(
        app,
        `UPDATE idempotency_keys SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND
          WHERE user_id = ? AND idem_key = 'old'`,
        [userId],
      );

      await expect(idempotency.findReplay(request)).resolves.toBeNull();
      // Reusing an expired key (even with another body) is a new request.
      const reused = await idempotency.execute(
        { ...request, body: { v: 2 } },
        200,
        effect(userId, runs),
      );
      expect(reused.replayed).toBe(false);
      expect(runs.count).toBe(2);

      await sql(
        app,
        `UPDATE idempotency_keys SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND
          WHERE user_id = ?`,
        [userId],
      );
      await expect(app.get(IdempotencyPurgeScheduler).purge()).resolves.toBeGreaterThanOrEqual(1);
      await expect(
        sql(app, 'SELECT id FROM idempotency_keys WHERE user_id = ?', [userId]),
      ).resolves.toEqual([]);
    });

    it('should refuse to run inside a transaction it does not own', async () => {
      const userId = await userWithBalance(0);
      await expect(
        txHost.withTransaction(() =>
          idempotency.execute(
            { userId, scope, key: 'x', body: {} },
            200,
            effect(userId, { count: 0 }),
          ),
        ),
      ).rejects.toThrow(/outside one/);
    });

    it('should run the work without any record when no key is sent', async () => {
      const userId = await userWithBalance(0);
      const runs = { count: 0 };
      const request = { userId, scope, key: undefined, body: {} };
      await idempotency.execute(request, 200, effect(userId, runs));
      await idempotency.execute(request, 200, effect(userId, runs));
      expect(runs.count).toBe(2);
      await expect(idempotency.findReplay(request)).resolves.toBeNull();
      await expect(
        sql(app, 'SELECT id FROM idempotency_keys WHERE user_id = ?', [userId]),
      ).resolves.toEqual([]);
    });
  });
});
