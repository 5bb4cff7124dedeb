import { Injectable } from '@nestjs/common';
import { walletNotFound } from './cash.errors';
import { BalanceChange, CashHistoryEntry } from './cash-wallet';
import { CashWalletRepository } from './cash-wallet.repository';

export interface CashHistoryPage {
  entries: CashHistoryEntry[];
  /** True when older entries exist beyond this page. */
  hasMore: boolean;
}

/**
 * The wallet and its append-only ledger. Every balance change goes through `apply`, which writes
 * the ledger row together with the balance, so balance = sum of ledger amounts always holds.
 * Callers run it inside a transaction opened by a facade.
 */
@Injectable()
export class CashService {
  constructor(private readonly wallets: CashWalletRepository) {}

  openWallet(userId: string): Promise<void> {
    return this.wallets.createEmpty(userId);
  }

  /** Adds `amount` (1..1,000,000) and returns the new balance. */
  charge(userId: string, amount: number): Promise<number> {
    return this.apply(userId, BalanceChange.charge(amount));
  }

  /**
   * Debits a payment inside the caller's transaction and records a PAYMENT ledger row linked to
   * `paymentId`. Throws INSUFFICIENT_BALANCE (nothing written) when the balance does not cover it.
   */
  async debitForPayment(
    userId: string,
    amount: number,
    paymentId: number,
  ): Promise<{ balance: number }> {
    const balance = await this.apply(userId, BalanceChange.paymentDebit(amount, paymentId));
    return { balance };
  }

  /**
   * Credits a refund inside the caller's transaction and records a REFUND ledger row linked to
   * `paymentId`. Never refused for the balance limit; only a missing wallet (USER_NOT_FOUND) can.
   */
  async creditRefund(
    userId: string,
    amount: number,
    paymentId: number,
  ): Promise<{ balance: number }> {
    const balance = await this.apply(userId, BalanceChange.refundCredit(amount, paymentId));
    return { balance };
  }

  async getBalance(userId: string): Promise<number> {
    const balance = await this.wallets.findBalance(userId);
    if (balance === null) throw walletNotFound(userId);
    return balance;
  }

  async history(
    userId: string,
    page: { beforeId?: number; limit: number },
  ): Promise<CashHistoryPage> {
    // One extra row tells whether another page exists without a COUNT.
    const rows = await this.wallets.listHistory(userId, { ...page, limit: page.limit + 1 });
    if (rows.length === 0 && (await this.wallets.findBalance(userId)) === null) {
      throw walletNotFound(userId);
    }
    return { entries: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
  }

  /**
   * Demo data: charges `amount` only if the wallet has never moved, so re-running the seed does
   * not top it up again. Returns whether it charged.
   */
  async chargeIfNeverUsed(userId: string, amount: number): Promise<boolean> {
    // Lock first: two seeders at once must not both see "no history".
    if (!(await this.wallets.findForUpdate(userId))) throw walletNotFound(userId);
    if (await this.wallets.hasHistory(userId)) return false;
    await this.charge(userId, amount);
    return true;
  }

  private async apply(userId: string, change: BalanceChange): Promise<number> {
    // Fast path: one conditional UPDATE decides and applies, so concurrent changes on one wallet
    // (from any instance) queue on its row lock and none is lost.
    const balance = await this.wallets.applyIfAllowed(userId, change);
    if (balance !== null) return balance;

    // Refused. Lock the row so the reason is judged on a state that cannot move under us.
    const wallet = await this.wallets.findForUpdate(userId);
    // Every user gets a wallet in the transaction that registers them, so no wallet = no user.
    if (!wallet) throw walletNotFound(userId);
    wallet.apply(change); // throws INSUFFICIENT_BALANCE / BALANCE_LIMIT_EXCEEDED
    // Another change committed between the two statements and this one fits now; with the row
    // locked the retry cannot be refused again.
    const retried = await this.wallets.applyIfAllowed(userId, change);
    if (retried === null) {
      throw new Error(`Balance change on ${userId} refused while holding its row lock`);
    }
    return retried;
  }
}
