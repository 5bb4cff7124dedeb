import { INestApplicationContext } from '@nestjs/common';
import { sql } from './app';

/**
 * The ledger invariants, checked over the whole test database (one per Jest worker, files in a
 * worker run one after another, so every row belongs to a finished scenario):
 * - every wallet balance equals the sum of its ledger amounts, and is within 0..100,000,000
 *   (above only after a refund, which the limit does not cap);
 * - every ledger row's balanceAfter is the previous row's balanceAfter plus its amount, and the
 *   newest one equals the wallet balance;
 * - amounts carry the sign of their type (CHARGE/REFUND > 0, PAYMENT < 0), and PAYMENT and
 *   REFUND rows name their payment.
 * Each check lists offending rows, so a failure says exactly what broke.
 */
export async function assertCashInvariants(app: INestApplicationContext): Promise<void> {
  const sumMismatches = await sql(
    app,
    `SELECT w.user_id, w.balance, COALESCE(SUM(h.amount), 0) AS ledger_sum
       FROM cash_wallets w LEFT JOIN cash_history h ON h.user_id = w.user_id
      GROUP BY w.user_id, w.balance
     HAVING w.balance <> COALESCE(SUM(h.amount), 0)`,
  );
  expect(sumMismatches).toEqual([]);

  const outOfRange = await sql(
    app,
    `SELECT user_id, balance FROM cash_wallets w
      WHERE balance < 0
         OR (balance > 100000000 AND NOT EXISTS
              (SELECT 1 FROM cash_history h WHERE h.user_id = w.user_id AND h.type = 'REFUND'))`,
  );
  expect(outOfRange).toEqual([]);

  const brokenChain = await sql(
    app,
    `SELECT id, user_id, amount, balance_after, prev_after FROM (
       SELECT id, user_id, amount, balance_after,
              COALESCE(LAG(balance_after) OVER (PARTITION BY user_id ORDER BY id), 0) AS prev_after
         FROM cash_history) chain
      WHERE balance_after <> prev_after + amount OR balance_after < 0`,
  );
  expect(brokenChain).toEqual([]);

  const staleWallets = await sql(
    app,
    `SELECT w.user_id, w.balance, h.balance_after FROM cash_wallets w
       JOIN cash_history h ON h.id = (SELECT MAX(id) FROM cash_history WHERE user_id = w.user_id)
      WHERE h.balance_after <> w.balance`,
  );
  expect(staleWallets).toEqual([]);

  const wrongSigns = await sql(
    app,
    `SELECT id, user_id, type, amount, payment_id FROM cash_history
      WHERE (type IN ('CHARGE', 'REFUND') AND amount <= 0)
         OR (type = 'PAYMENT' AND (amount >= 0 OR payment_id IS NULL))
         OR (type = 'REFUND' AND payment_id IS NULL)`,
  );
  expect(wrongSigns).toEqual([]);
}

/** Sum of a user's ledger amounts and the wallet balance, for exact assertions in tests. */
export async function walletState(
  app: INestApplicationContext,
  userId: string,
): Promise<{ balance: number; ledgerSum: number; entries: number }> {
  const [row] = await sql<{ balance: number; ledger_sum: number | string; entries: number }[]>(
    app,
    `SELECT w.balance,
            (SELECT COALESCE(SUM(amount), 0) FROM cash_history WHERE user_id = w.user_id) AS ledger_sum,
            (SELECT COUNT(*) FROM cash_history WHERE user_id = w.user_id) AS entries
       FROM cash_wallets w WHERE w.user_id = ?`,
    [userId],
  );
  return {
    balance: Number(row.balance),
    ledgerSum: Number(row.ledger_sum),
    entries: Number(row.entries),
  };
}

/**
 * The wallet holds `balance` after exactly `entries` ledger rows, and its ledger sums to it. One
 * assertion, so a failure shows all three.
 */
export async function expectWallet(
  app: INestApplicationContext,
  userId: string,
  { balance, entries }: { balance: number; entries: number },
): Promise<void> {
  await expect(walletState(app, userId)).resolves.toEqual({
    balance,
    ledgerSum: balance,
    entries,
  });
}
