import {
  holdLimitReached,
  purchaseLimitReached,
  reservationExpired,
  reservationNotHeld,
} from './reservation.errors';

export type ReservationStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

/** What a new hold is taken for: the seat, and the price and end time it is taken at. */
export interface NewHold {
  userId: string;
  scheduleId: number;
  seatId: number;
  seatNumber: number;
  price: number;
  expiresAt: Date;
}

/**
 * A seat hold and what became of it: HELD → CONFIRMED (paid), CANCELLED (by its owner) or EXPIRED
 * (its `expiresAt` reached); CONFIRMED → REFUNDED when its payment is refunded. A hold moves only
 * while it is live: a HELD reservation past `expiresAt` is EXPIRED for every purpose even before
 * the release job has rewritten the row. `now` is always the database clock, so instances with
 * skewed clocks agree.
 */
export class Reservation {
  constructor(
    readonly id: number,
    readonly userId: string,
    readonly scheduleId: number,
    readonly seatId: number,
    readonly seatNumber: number,
    readonly price: number,
    /** As stored; see statusAt for what it means now. */
    readonly status: ReservationStatus,
    readonly expiresAt: Date,
    readonly paymentId: number | null,
  ) {}

  /** A hold as just inserted: HELD and unpaid. */
  static held(id: number, hold: NewHold): Reservation {
    return new Reservation(
      id,
      hold.userId,
      hold.scheduleId,
      hold.seatId,
      hold.seatNumber,
      hold.price,
      'HELD',
      hold.expiresAt,
      null,
    );
  }

  statusAt(now: Date): ReservationStatus {
    return this.holdExpiredAt(now) ? 'EXPIRED' : this.status;
  }

  /**
   * The expiry rule: HELD with `expiresAt` reached, the instant itself included. Its SQL
   * statement is `reservationHoldExpired` (infrastructure/reservation.sql.ts), and
   * test/integration/rules-agree.spec.ts keeps the two equal.
   */
  holdExpiredAt(now: Date): boolean {
    return this.status === 'HELD' && this.expiresAt.getTime() <= now.getTime();
  }

  isLiveHoldAt(now: Date): boolean {
    return this.statusAt(now) === 'HELD';
  }

  /** The reservation as a client should see it at `now` (an expired hold reads EXPIRED). */
  seenAt(now: Date): Reservation {
    return this.withStatus(this.statusAt(now), this.paymentId);
  }

  /** The owner releases a live hold. */
  cancel(now: Date): Reservation {
    if (!this.isLiveHoldAt(now)) {
      throw reservationNotHeld(this.id, this.statusAt(now), 'cancelled');
    }
    return this.withStatus('CANCELLED', null);
  }

  /**
   * Why this reservation cannot be paid at `now`, if it cannot: already paid or cancelled → 409,
   * expired → 410 (a different answer because the client can hold the seat again).
   */
  assertPayableAt(now: Date): void {
    const status = this.statusAt(now);
    if (status === 'EXPIRED') {
      throw reservationExpired(this.id, this.expiresAt);
    }
    if (status !== 'HELD') {
      throw reservationNotHeld(this.id, status, 'paid');
    }
  }

  confirm(paymentId: number, now: Date): Reservation {
    this.assertPayableAt(now);
    return this.withStatus('CONFIRMED', paymentId);
  }

  /**
   * Its payment is being refunded. Whether that may happen is the payment's decision; here only
   * the invariant is defended: a refunded payment's reservations are exactly its CONFIRMED ones.
   */
  refund(paymentId: number): Reservation {
    if (this.status !== 'CONFIRMED' || this.paymentId !== paymentId) {
      throw new Error(
        `Reservation ${this.id} is ${this.status} (payment ${this.paymentId}); ` +
          `only a CONFIRMED reservation of payment ${paymentId} can be refunded`,
      );
    }
    return this.withStatus('REFUNDED', paymentId);
  }

  private withStatus(status: ReservationStatus, paymentId: number | null): Reservation {
    return new Reservation(
      this.id,
      this.userId,
      this.scheduleId,
      this.seatId,
      this.seatNumber,
      this.price,
      status,
      this.expiresAt,
      paymentId,
    );
  }
}

/**
 * When a hold taken at `now` expires: `holdSeconds` (RESERVATION_HOLD_SECONDS) later, on the
 * clock `now` comes from, the database's.
 */
export function holdExpiresAt(now: Date, holdSeconds: number): Date {
  return new Date(now.getTime() + holdSeconds * 1000);
}

/** What a user already has, read under the user's lock at the start of a hold. */
export interface UserSeats {
  /** Unexpired HELD reservations, over all schedules. */
  liveHolds: number;
  /** Unexpired HELD plus CONFIRMED reservations in the schedule of the new hold. */
  seatsInSchedule: number;
}

/**
 * The two limits on one person: live holds at once (so nobody sits on seats they will not pay
 * for) and seats per schedule (the purchase limit, so one person cannot buy up a show).
 */
export class HoldLimit {
  constructor(
    readonly maxLiveHolds: number,
    readonly maxSeatsPerSchedule: number,
  ) {}

  assertRoomForOneMore(seats: UserSeats): void {
    if (seats.liveHolds >= this.maxLiveHolds) {
      throw holdLimitReached(seats.liveHolds, this.maxLiveHolds);
    }
    if (seats.seatsInSchedule >= this.maxSeatsPerSchedule) {
      throw purchaseLimitReached(seats.seatsInSchedule, this.maxSeatsPerSchedule);
    }
  }
}
