import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/** One answer for a missing reservation and someone else's, so neither can be told apart. */
export function reservationNotFound(id: number): DomainError {
  return new DomainError(ErrorCode.RESERVATION_NOT_FOUND, `Reservation ${id} was not found.`);
}

export function reservationNotHeld(
  id: number,
  /** What it is now (reservation.ts is not imported here: it imports these errors). */
  status: string,
  wanted: 'cancelled' | 'paid',
): DomainError {
  return new DomainError(
    ErrorCode.RESERVATION_NOT_HELD,
    `Reservation ${id} is ${status}; only a HELD reservation can be ${wanted}.`,
  );
}

export function reservationExpired(id: number, expiredAt: Date): DomainError {
  return new DomainError(
    ErrorCode.RESERVATION_EXPIRED,
    `Reservation ${id} expired at ${expiredAt.toISOString()}.`,
  );
}

export function holdLimitReached(liveHolds: number, max: number): DomainError {
  return new DomainError(
    ErrorCode.HOLD_LIMIT_REACHED,
    `You already hold ${liveHolds} seats; the limit is ${max}. Pay or cancel one first.`,
  );
}

export function purchaseLimitReached(seatsInSchedule: number, max: number): DomainError {
  return new DomainError(
    ErrorCode.PURCHASE_LIMIT_REACHED,
    `You already have ${seatsInSchedule} seats in this schedule; the limit is ${max}.`,
  );
}
