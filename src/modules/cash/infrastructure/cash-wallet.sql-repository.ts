import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { asWriteResult, DB_NOW } from '../../../common/database/sql';
import {
  BalanceChange,
  CashHistoryEntry,
  CashHistoryType,
  CashWallet,
} from '../domain/cash-wallet';
import { CashWalletRepository } from '../domain/cash-wallet.repository';

interface WalletRow {
  user_id: string;
  balance: number;
}

interface HistoryRow {
  id: number;
  type: CashHistoryType;
  amount: number;
  balance_after: number;
  payment_id: number | null;
  created_at: Date;
}

@Injectable()
export class CashWalletSqlRepository extends CashWalletRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  async createEmpty(userId: string): Promise<void> {
    await this.query(
      `INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES (?, 0, ${DB_NOW})
       ON DUPLICATE KEY UPDATE user_id = user_id`,
      [userId],
    );
  }

  async applyIfAllowed(userId: string, change: BalanceChange): Promise<number | null> {
    const { min, max } = change.allowedBalanceBefore;
    // LAST_INSERT_ID(expr) hands the new balance back in the OK packet's insertId, so the
    // decision, the update and reading the result are one statement and one round trip while
    // the row lock is held (MySQL and MariaDB both document this use).
    const result = asWriteResult(
      await this.query(
        `UPDATE cash_wallets SET balance = LAST_INSERT_ID(balance + ?), updated_at = ${DB_NOW}
          WHERE user_id = ? AND balance BETWEEN ? AND ?`,
        [change.amount, userId, min, max],
      ),
    );
    if (result.affectedRows !== 1) return null;
    const balanceAfter = result.insertId;
    await this.query(
      `INSERT INTO cash_history (user_id, type, amount, balance_after, payment_id, created_at)
       VALUES (?, ?, ?, ?, ?, ${DB_NOW})`,
      [userId, change.type, change.amount, balanceAfter, change.paymentId],
    );
    return balanceAfter;
  }

  async findForUpdate(userId: string): Promise<CashWallet | null> {
    const rows = await this.query<WalletRow[]>(
      'SELECT user_id, balance FROM cash_wallets WHERE user_id = ? FOR UPDATE',
      [userId],
    );
    return rows[0] ? new CashWallet(rows[0].user_id, Number(rows[0].balance)) : null;
  }

  async findBalance(userId: string): Promise<number | null> {
    const rows = await this.txHost.readsUpToDate.query<WalletRow[]>(
      'SELECT user_id, balance FROM cash_wallets WHERE user_id = ?',
      [userId],
    );
    return rows[0] ? Number(rows[0].balance) : null;
  }

  async hasHistory(userId: string): Promise<boolean> {
    const rows = await this.query<unknown[]>(
      'SELECT 1 FROM cash_history WHERE user_id = ? LIMIT 1',
      [userId],
    );
    return rows.length > 0;
  }

  async listHistory(
    userId: string,
    page: { beforeId?: number; limit: number },
  ): Promise<CashHistoryEntry[]> {
    // Keyset pagination on (user_id, id): stable under concurrent inserts, and the index
    // idx_cash_history_user_id serves both the filter and the order.
    const rows =
      page.beforeId === undefined
        ? await this.txHost.readsUpToDate.query<HistoryRow[]>(
            `SELECT id, type, amount, balance_after, payment_id, created_at FROM cash_history
              WHERE user_id = ? ORDER BY id DESC LIMIT ?`,
            [userId, page.limit],
          )
        : await this.txHost.readsUpToDate.query<HistoryRow[]>(
            `SELECT id, type, amount, balance_after, payment_id, created_at FROM cash_history
              WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
            [userId, page.beforeId, page.limit],
          );
    return rows.map(toEntry);
  }
}

function toEntry(row: HistoryRow): CashHistoryEntry {
  return {
    id: row.id,
    type: row.type,
    amount: Number(row.amount),
    balanceAfter: Number(row.balance_after),
    paymentId: row.payment_id,
    createdAt: row.created_at,
  };
}
