import { BalanceChange, CashWallet, MAX_BALANCE } from './cash-wallet';
import { codeOf } from '../../../../test/support/assertions';

describe('BalanceChange', () => {
  it('should record a charge as a positive CHARGE amount without a payment', () => {
    const change = BalanceChange.charge(1_000_000);
    expect(change).toMatchObject({ type: 'CHARGE', amount: 1_000_000, paymentId: null });
  });

  it.each([0, -1, 1_000_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'should refuse a charge of %p as VALIDATION_FAILED',
    (amount) => {
      expect(codeOf(() => BalanceChange.charge(amount))).toBe('VALIDATION_FAILED');
    },
  );

  it('should record a payment as a negative PAYMENT amount linked to the payment', () => {
    expect(BalanceChange.paymentDebit(150_000, 7)).toMatchObject({
      type: 'PAYMENT',
      amount: -150_000,
      paymentId: 7,
    });
  });

  it.each([
    [0, 1],
    [-5, 1],
    [2.5, 1],
    [10, 0],
    [10, 1.5],
  ])('should treat a debit of %p for payment %p as a programming error', (amount, paymentId) => {
    expect(codeOf(() => BalanceChange.paymentDebit(amount, paymentId))).toBe('RangeError');
  });

  it('should allow a charge only while the balance leaves room for it', () => {
    expect(BalanceChange.charge(300).allowedBalanceBefore).toEqual({
      min: 0,
      max: MAX_BALANCE - 300,
    });
  });

  it('should allow a debit while the balance covers it, even above the charge limit', () => {
    expect(BalanceChange.paymentDebit(300, 1).allowedBalanceBefore).toEqual({
      min: 300,
      max: Number.MAX_SAFE_INTEGER,
    });
  });

  it('should record a refund as a positive REFUND amount linked to the payment', () => {
    expect(BalanceChange.refundCredit(150_000, 7)).toMatchObject({
      type: 'REFUND',
      amount: 150_000,
      paymentId: 7,
    });
  });

  it('should not cap a refund by the charge limit', () => {
    expect(BalanceChange.refundCredit(300, 1).allowedBalanceBefore).toEqual({
      min: 0,
      max: Number.MAX_SAFE_INTEGER - 300,
    });
  });

  it.each([
    [0, 1],
    [-5, 1],
    [2.5, 1],
    [10, 0],
  ])('should treat a refund of %p for payment %p as a programming error', (amount, paymentId) => {
    expect(codeOf(() => BalanceChange.refundCredit(amount, paymentId))).toBe('RangeError');
  });
});

describe('CashWallet', () => {
  const wallet = (balance: number) => new CashWallet('u', balance);

  it('should add a charge to the balance', () => {
    expect(wallet(1_000).apply(BalanceChange.charge(500))).toBe(1_500);
  });

  it('should reach exactly the limit when a charge fills the wallet', () => {
    expect(wallet(MAX_BALANCE - 1_000_000).apply(BalanceChange.charge(1_000_000))).toBe(
      MAX_BALANCE,
    );
  });

  it('should refuse with BALANCE_LIMIT_EXCEEDED when a charge would pass the limit', () => {
    expect(codeOf(() => wallet(MAX_BALANCE - 999).apply(BalanceChange.charge(1_000)))).toBe(
      'BALANCE_LIMIT_EXCEEDED',
    );
    expect(codeOf(() => wallet(MAX_BALANCE).apply(BalanceChange.charge(1)))).toBe(
      'BALANCE_LIMIT_EXCEEDED',
    );
  });

  it('should subtract a debit and may reach exactly zero', () => {
    expect(wallet(80_000).apply(BalanceChange.paymentDebit(30_000, 1))).toBe(50_000);
    expect(wallet(30_000).apply(BalanceChange.paymentDebit(30_000, 1))).toBe(0);
  });

  it('should refuse with INSUFFICIENT_BALANCE when a debit exceeds the balance', () => {
    expect(codeOf(() => wallet(29_999).apply(BalanceChange.paymentDebit(30_000, 1)))).toBe(
      'INSUFFICIENT_BALANCE',
    );
    expect(codeOf(() => wallet(0).apply(BalanceChange.paymentDebit(1, 1)))).toBe(
      'INSUFFICIENT_BALANCE',
    );
  });

  it('should accept a debit larger than any charge when the balance covers it', () => {
    expect(wallet(MAX_BALANCE).apply(BalanceChange.paymentDebit(40_000_000, 3))).toBe(60_000_000);
  });

  it('should take a refund past the charge limit, and still pay and refuse charges from there', () => {
    const refunded = wallet(MAX_BALANCE).apply(BalanceChange.refundCredit(50_000, 3));
    expect(refunded).toBe(MAX_BALANCE + 50_000);
    expect(wallet(refunded).apply(BalanceChange.paymentDebit(10_000, 4))).toBe(
      MAX_BALANCE + 40_000,
    );
    expect(codeOf(() => wallet(refunded).apply(BalanceChange.charge(1)))).toBe(
      'BALANCE_LIMIT_EXCEEDED',
    );
  });
});
