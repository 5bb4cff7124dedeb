import { DomainError } from '../../../common/errors/domain-error';
import { balanceLimitExceeded, insufficientBalance } from './cash.errors';

/** No charge may take a wallet above this (KRW). A refund may: it gives back money already paid. */
export const MAX_BALANCE = 100_000_000;
/** The most a wallet row can hold exactly in this code (BIGINT is wider than a JS number). */
const MAX_STORED_BALANCE = Number.MAX_SAFE_INTEGER;
export const MIN_CHARGE_AMOUNT = 1;
export const MAX_CHARGE_AMOUNT = 1_000_000;

export type CashHistoryType = 'CHARGE' | 'PAYMENT' | 'REFUND';

/**
 * One movement of a balance as the ledger records it (signed amount: + charge, - payment), plus
 * the range the balance before it must lie in so the result stays within 0..MAX_BALANCE. The
 * repository applies it with a single conditional UPDATE built from that range, so the rule is
 * stated here once and enforced atomically by the database.
 */
export class BalanceChange {
  private constructor(
    readonly type: CashHistoryType,
    readonly amount: number,
    readonly paymentId: number | null,
  ) {}

  static charge(amount: number): BalanceChange {
    if (!Number.isSafeInteger(amount) || amount < MIN_CHARGE_AMOUNT || amount > MAX_CHARGE_AMOUNT) {
      throw DomainError.validation([
        {
          field: 'amount',
          message: `amount must be an integer from ${MIN_CHARGE_AMOUNT} to ${MAX_CHARGE_AMOUNT}`,
        },
      ]);
    }
    return new BalanceChange('CHARGE', amount, null);
  }

  /** A payment's debit. Amount and payment id come from our own code, so bad values are bugs. */
  static paymentDebit(amount: number, paymentId: number): BalanceChange {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new RangeError(`A payment debit must be a positive integer, got ${amount}`);
    }
    if (!Number.isSafeInteger(paymentId) || paymentId <= 0) {
      throw new RangeError(`A payment debit needs a payment id, got ${paymentId}`);
    }
    return new BalanceChange('PAYMENT', -amount, paymentId);
  }

  /**
   * A refund of a payment's amount. Not capped by MAX_BALANCE (the contract): the money was in
   * the wallet before the payment, and refusing it would leave the customer with neither the
   * seat nor the money.
   */
  static refundCredit(amount: number, paymentId: number): BalanceChange {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new RangeError(`A refund must be a positive integer, got ${amount}`);
    }
    if (!Number.isSafeInteger(paymentId) || paymentId <= 0) {
      throw new RangeError(`A refund needs a payment id, got ${paymentId}`);
    }
    return new BalanceChange('REFUND', amount, paymentId);
  }

  /** Lowest and highest balance before the change for which it may be applied. */
  get allowedBalanceBefore(): { min: number; max: number } {
    // Only a charge is held to MAX_BALANCE; a wallet a refund took past it can still pay.
    const ceiling = this.type === 'CHARGE' ? MAX_BALANCE : MAX_STORED_BALANCE;
    return {
      min: Math.max(0, -this.amount),
      max: ceiling - Math.max(0, this.amount),
    };
  }
}

/** A user's prepaid balance. Invariant: 0 <= balance; charges keep it <= MAX_BALANCE. */
export class CashWallet {
  constructor(
    readonly userId: string,
    readonly balance: number,
  ) {}

  /** The balance after the change, or the business reason it cannot be applied. */
  apply(change: BalanceChange): number {
    const { min, max } = change.allowedBalanceBefore;
    if (this.balance < min) {
      throw insufficientBalance(this.balance, -change.amount);
    }
    if (this.balance > max) {
      throw balanceLimitExceeded(this.balance, change.amount, MAX_BALANCE);
    }
    return this.balance + change.amount;
  }
}

/** A ledger row as read back; amounts are signed, so their sum is the balance. */
export interface CashHistoryEntry {
  id: number;
  type: CashHistoryType;
  amount: number;
  balanceAfter: number;
  paymentId: number | null;
  createdAt: Date;
}
