import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

export function concertNotFound(concertId: number): DomainError {
  return new DomainError(ErrorCode.CONCERT_NOT_FOUND, `Concert ${concertId} does not exist.`);
}

export function scheduleNotFound(concertId: number, scheduleId: number): DomainError {
  return new DomainError(
    ErrorCode.SCHEDULE_NOT_FOUND,
    `Concert ${concertId} has no schedule ${scheduleId}.`,
  );
}

export function seatNotFound(scheduleId: number, seatId: number): DomainError {
  return new DomainError(ErrorCode.SEAT_NOT_FOUND, `Schedule ${scheduleId} has no seat ${seatId}.`);
}

export function bookingClosed(scheduleId: number): DomainError {
  return new DomainError(
    ErrorCode.BOOKING_CLOSED,
    `Booking for schedule ${scheduleId} is not open now.`,
  );
}

/**
 * One answer for every way a seat can be taken (sold, held, its lock busy, the unique key), so a
 * client learns only that it lost, never which fence stopped it.
 */
export function seatUnavailable(seatId: number): DomainError {
  return new DomainError(ErrorCode.SEAT_UNAVAILABLE, `Seat ${seatId} is held or sold.`);
}
