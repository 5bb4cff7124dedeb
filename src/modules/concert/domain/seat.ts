import { SeatStatus } from './concert';

/**
 * A seat with its current hold. The state machine is AVAILABLE → HELD → SOLD, HELD → AVAILABLE
 * when the hold is cancelled or expires, and SOLD → AVAILABLE when the payment is refunded. The
 * transitions themselves are conditional UPDATEs in the repository (the database decides races);
 * this model answers what a row means at a given instant of the database clock.
 */
export class Seat {
  constructor(
    readonly id: number,
    readonly scheduleId: number,
    readonly number: number,
    readonly price: number,
    /** As stored: a HELD row's hold may already have expired and wait for the release job. */
    readonly storedStatus: SeatStatus,
    readonly reservationId: number | null,
    readonly holdExpiresAt: Date | null,
  ) {}

  /** What a client sees at `now`: a seat whose hold has expired is AVAILABLE at once. */
  statusAt(now: Date): SeatStatus {
    return this.holdExpiredAt(now) ? 'AVAILABLE' : this.storedStatus;
  }

  isHoldableAt(now: Date): boolean {
    return this.statusAt(now) === 'AVAILABLE';
  }

  /**
   * The reservation still pinned to this seat by a hold that has expired. A new hold retires it
   * first: while it is HELD its unique live-seat key would refuse the new reservation.
   */
  expiredReservationAt(now: Date): number | null {
    return this.holdExpiredAt(now) ? this.reservationId : null;
  }

  /**
   * The rule "an expired hold frees the seat": HELD with its end reached, the instant itself
   * included. Its SQL statement is `seatHoldExpired` (infrastructure/seat.sql.ts), and
   * test/integration/rules-agree.spec.ts keeps the two equal.
   */
  holdExpiredAt(now: Date): boolean {
    return (
      this.storedStatus === 'HELD' &&
      this.holdExpiresAt !== null &&
      this.holdExpiresAt.getTime() <= now.getTime()
    );
  }
}

/** A seat a hold may go for, as seen just before the hold's transaction. */
export interface HoldableSeat {
  id: number;
  scheduleId: number;
  number: number;
  price: number;
  /** An expired reservation the hold must retire first (see Seat.expiredReservationAt). */
  expiredReservationId: number | null;
}

/** A seat together with the reservation that holds it. */
export interface SeatHold {
  seatId: number;
  reservationId: number;
}

/** The seats these reservations hold, each paired with its reservation. */
export function seatHoldsOf(reservations: readonly { id: number; seatId: number }[]): SeatHold[] {
  return reservations.map((reservation) => ({
    seatId: reservation.seatId,
    reservationId: reservation.id,
  }));
}

/** What a payment receipt copies about a seat, so it survives later catalogue changes. */
export interface SeatReceiptLine {
  seatId: number;
  seatNumber: number;
  scheduleId: number;
  startsAt: Date;
  concertId: number;
  concertTitle: string;
}
