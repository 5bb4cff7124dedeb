import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/** One answer for a missing payment and someone else's, so neither can be told apart. */
export function paymentNotFound(id: number): DomainError {
  return new DomainError(ErrorCode.PAYMENT_NOT_FOUND, `Payment ${id} was not found.`);
}

export function paymentAlreadyRefunded(id: number, refundedAt: Date | null): DomainError {
  const when = refundedAt ? ` at ${refundedAt.toISOString()}` : '';
  return new DomainError(
    ErrorCode.PAYMENT_ALREADY_REFUNDED,
    `Payment ${id} was already refunded${when}.`,
  );
}

export function refundWindowClosed(id: number, deadline: Date, cutoffHours: number): DomainError {
  return new DomainError(
    ErrorCode.REFUND_WINDOW_CLOSED,
    `Payment ${id} could be refunded until ${deadline.toISOString()} (${cutoffHours} h before the show).`,
  );
}

/**
 * Someone else's reservation on a checkout. The reservation module answers a missing one with
 * this same code, so the payment must too: the two cannot be told apart.
 */
export function foreignReservation(id: number): DomainError {
  return new DomainError(ErrorCode.RESERVATION_NOT_FOUND, `Reservation ${id} was not found.`);
}

/** The receipt's unique key caught a second payment of one reservation: "not held any more". */
export function reservationAlreadyPaid(): DomainError {
  return new DomainError(ErrorCode.RESERVATION_NOT_HELD, 'A reservation was already paid.');
}
