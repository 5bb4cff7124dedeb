import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/** Every user gets a wallet in the transaction that registers them, so no wallet = no user. */
export function walletNotFound(userId: string): DomainError {
  return new DomainError(ErrorCode.USER_NOT_FOUND, `User ${userId} does not exist.`);
}

export function insufficientBalance(balance: number, debit: number): DomainError {
  return new DomainError(
    ErrorCode.INSUFFICIENT_BALANCE,
    `The balance (${balance} KRW) does not cover ${debit} KRW.`,
  );
}

export function balanceLimitExceeded(balance: number, charge: number, max: number): DomainError {
  return new DomainError(
    ErrorCode.BALANCE_LIMIT_EXCEEDED,
    `Charging ${charge} KRW would take the balance (${balance} KRW) above ${max} KRW.`,
  );
}
