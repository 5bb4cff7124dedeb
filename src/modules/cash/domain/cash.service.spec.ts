import { BalanceChange, CashHistoryEntry, CashWallet } from './cash-wallet';
import { CashWalletRepository } from './cash-wallet.repository';
import { CashService } from './cash.service';
import { codeOf } from '../../../../test/support/assertions';

/** In-memory wallets following the port's contract, with a hook to move a balance mid-call. */
class FakeWallets extends CashWalletRepository {
  readonly balances = new Map<string, number>();
  readonly ledger: (CashHistoryEntry & { userId: string })[] = [];
  beforeLock?: (userId: string) => void;

  createEmpty(userId: string): Promise<void> {
    if (!this.balances.has(userId)) this.balances.set(userId, 0);
    return Promise.resolve();
  }

  applyIfAllowed(userId: string, change: BalanceChange): Promise<number | null> {
    const balance = this.balances.get(userId);
    const { min, max } = change.allowedBalanceBefore;
    if (balance === undefined || balance < min || balance > max) return Promise.resolve(null);
    const after = balance + change.amount;
    this.balances.set(userId, after);
    this.ledger.push({
      id: this.ledger.length + 1,
      userId,
      type: change.type,
      amount: change.amount,
      balanceAfter: after,
      paymentId: change.paymentId,
      createdAt: new Date(),
    });
    return Promise.resolve(after);
  }

  findForUpdate(userId: string): Promise<CashWallet | null> {
    this.beforeLock?.(userId);
    const balance = this.balances.get(userId);
    return Promise.resolve(balance === undefined ? null : new CashWallet(userId, balance));
  }

  findBalance(userId: string): Promise<number | null> {
    return Promise.resolve(this.balances.get(userId) ?? null);
  }

  hasHistory(userId: string): Promise<boolean> {
    return Promise.resolve(this.ledger.some((entry) => entry.userId === userId));
  }

  listHistory(
    userId: string,
    page: { beforeId?: number; limit: number },
  ): Promise<CashHistoryEntry[]> {
    return Promise.resolve(
      this.ledger
        .filter((e) => e.userId === userId && (page.beforeId === undefined || e.id < page.beforeId))
        .reverse()
        .slice(0, page.limit),
    );
  }
}

describe('CashService', () => {
  let wallets: FakeWallets;
  let cash: CashService;

  beforeEach(async () => {
    wallets = new FakeWallets();
    cash = new CashService(wallets);
    await cash.openWallet('alice');
  });

  it('should return the new balance and write one ledger row when charging', async () => {
    await expect(cash.charge('alice', 700)).resolves.toBe(700);
    expect(wallets.ledger).toMatchObject([{ type: 'CHARGE', amount: 700, balanceAfter: 700 }]);
  });

  it('should answer USER_NOT_FOUND when charging a user without a wallet', async () => {
    await expect(codeOf(cash.charge('nobody', 1))).resolves.toBe('USER_NOT_FOUND');
    await expect(codeOf(cash.getBalance('nobody'))).resolves.toBe('USER_NOT_FOUND');
    await expect(codeOf(cash.history('nobody', { limit: 5 }))).resolves.toBe('USER_NOT_FOUND');
  });

  it('should explain a refused charge with BALANCE_LIMIT_EXCEEDED and write nothing', async () => {
    wallets.balances.set('alice', 99_500_000);
    await expect(codeOf(cash.charge('alice', 600_000))).resolves.toBe('BALANCE_LIMIT_EXCEEDED');
    expect(wallets.ledger).toEqual([]);
  });

  it('should explain a refused debit with INSUFFICIENT_BALANCE and write nothing', async () => {
    wallets.balances.set('alice', 100);
    await expect(codeOf(cash.debitForPayment('alice', 101, 1))).resolves.toBe(
      'INSUFFICIENT_BALANCE',
    );
    expect(wallets.ledger).toEqual([]);
  });

  it('should credit a refund with a REFUND ledger row even when it passes the charge limit', async () => {
    wallets.balances.set('alice', 99_990_000);
    await expect(cash.creditRefund('alice', 50_000, 12)).resolves.toEqual({
      balance: 100_040_000,
    });
    expect(wallets.ledger).toMatchObject([
      { type: 'REFUND', amount: 50_000, balanceAfter: 100_040_000, paymentId: 12 },
    ]);
  });

  it('should answer USER_NOT_FOUND for a refund to a user without a wallet', async () => {
    await expect(codeOf(cash.creditRefund('nobody', 1, 1))).resolves.toBe('USER_NOT_FOUND');
  });

  it('should apply the change after all when the balance moved into range before the lock', async () => {
    wallets.balances.set('alice', 100);
    // A concurrent charge commits between the refused UPDATE and the locking read.
    wallets.beforeLock = (userId) => wallets.balances.set(userId, 1_000);
    await expect(cash.debitForPayment('alice', 500, 9)).resolves.toEqual({ balance: 500 });
    expect(wallets.ledger).toMatchObject([{ type: 'PAYMENT', amount: -500, paymentId: 9 }]);
  });

  it('should page the history newest first and say whether more remains', async () => {
    for (const amount of [1, 2, 3]) await cash.charge('alice', amount);
    const first = await cash.history('alice', { limit: 2 });
    expect(first.entries.map((e) => e.amount)).toEqual([3, 2]);
    expect(first.hasMore).toBe(true);
    const second = await cash.history('alice', { limit: 2, beforeId: first.entries[1].id });
    expect(second.entries.map((e) => e.amount)).toEqual([1]);
    expect(second.hasMore).toBe(false);
  });

  it('should top up only a wallet that never moved', async () => {
    await expect(cash.chargeIfNeverUsed('alice', 1_000)).resolves.toBe(true);
    await expect(cash.chargeIfNeverUsed('alice', 1_000)).resolves.toBe(false);
    await expect(cash.getBalance('alice')).resolves.toBe(1_000);
  });
});
