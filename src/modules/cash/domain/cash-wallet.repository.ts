import { BalanceChange, CashHistoryEntry, CashWallet } from './cash-wallet';

export abstract class CashWalletRepository {
  /** Creates an empty wallet; a no-op when the user already has one. */
  abstract createEmpty(userId: string): Promise<void>;

  /**
   * Applies the change and appends its ledger row, atomically, if the wallet exists and its
   * balance lies in the change's allowed range. Returns the balance after it, or null when
   * nothing was written (no wallet, or the balance was out of range). Joins the caller's
   * transaction; the wallet row stays locked until that commits.
   */
  abstract applyIfAllowed(userId: string, change: BalanceChange): Promise<number | null>;

  /** The wallet, read with a row lock (held until the caller's transaction ends). */
  abstract findForUpdate(userId: string): Promise<CashWallet | null>;

  abstract findBalance(userId: string): Promise<number | null>;

  /** Whether the wallet has ever moved (any ledger row at all). */
  abstract hasHistory(userId: string): Promise<boolean>;

  /** Ledger rows newest first, strictly older than `beforeId` when given. */
  abstract listHistory(
    userId: string,
    page: { beforeId?: number; limit: number },
  ): Promise<CashHistoryEntry[]>;
}
