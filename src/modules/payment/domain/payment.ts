import { foreignReservation, paymentAlreadyRefunded, refundWindowClosed } from './payment.errors';

/** One payment covers at most this many reservations (the contract's int[1..4]). */
export const MAX_RESERVATIONS_PER_PAYMENT = 4;

export type PaymentStatus = 'COMPLETED' | 'REFUNDED';

/**
 * A reservation the reservation module has locked and found payable for this user. A structural
 * type of our own (the payment domain does not import other modules): what checkout needs of it.
 */
export interface PayableReservation {
  id: number;
  userId: string;
  scheduleId: number;
  seatId: number;
  seatNumber: number;
  /** The price the hold was taken at: that is what the user agreed to pay. */
  price: number;
}

/** What the catalogue says about a seat at payment time (copied into the receipt). */
export interface SeatDescription {
  seatId: number;
  concertId: number;
  concertTitle: string;
  startsAt: Date;
}

/** One line of a receipt: a seat bought by a payment, as it was at payment time. */
export interface PaymentItem {
  reservationId: number;
  concertId: number;
  concertTitle: string;
  scheduleId: number;
  startsAt: Date;
  seatId: number;
  seatNumber: number;
  price: number;
}

/** A payment as stored. `reservationIds` follow the items (ascending reservation id). */
export interface Payment {
  id: number;
  userId: string;
  amount: number;
  status: PaymentStatus;
  paidAt: Date;
  /** Set exactly when the status is REFUNDED (a CHECK constraint says the same). */
  refundedAt: Date | null;
  items: PaymentItem[];
}

const HOUR_MS = 3_600_000;

/**
 * The refund rule, stated once: a COMPLETED payment may be refunded until `cutoffHours` before the
 * earliest start among its schedules (the first show it bought a seat for), judged at the
 * database clock. Refunding twice is refused rather than ignored, so a client that did not use
 * an Idempotency-Key learns that the money already came back.
 */
export class RefundPolicy {
  constructor(readonly cutoffHours: number) {
    if (!Number.isInteger(cutoffHours) || cutoffHours < 0) {
      throw new RangeError(`A refund cutoff must be a whole number of hours, got ${cutoffHours}`);
    }
  }

  /** The last instant a payment for shows starting at `scheduleStarts` may be refunded. */
  deadline(scheduleStarts: readonly Date[]): Date {
    if (scheduleStarts.length === 0) {
      throw new Error('A refund window needs the start of at least one schedule');
    }
    const earliest = Math.min(...scheduleStarts.map((startsAt) => startsAt.getTime()));
    return new Date(earliest - this.cutoffHours * HOUR_MS);
  }

  /** The payment as refunded at `now`, or why it cannot be (409 either way). */
  refund(payment: Payment, scheduleStarts: readonly Date[], now: Date): Payment {
    if (payment.status === 'REFUNDED') {
      throw paymentAlreadyRefunded(payment.id, payment.refundedAt);
    }
    const deadline = this.deadline(scheduleStarts);
    // "Later than the cutoff" closes it: the deadline instant itself is still refundable.
    if (now.getTime() > deadline.getTime()) {
      throw refundWindowClosed(payment.id, deadline, this.cutoffHours);
    }
    return { ...payment, status: 'REFUNDED', refundedAt: now };
  }
}

/**
 * The decision part of a checkout: which reservations, for whom, and what they cost. Built from
 * the reservations as locked, so the total is computed from the rows that will be confirmed.
 */
export class Checkout {
  private constructor(
    readonly userId: string,
    readonly reservations: readonly PayableReservation[],
    readonly amount: number,
  ) {}

  /**
   * Checks the payment's own rules: 1..4 distinct reservations, all the payer's, total above
   * zero. The reservation module has already judged each one payable (HELD and unexpired); these
   * checks only defend the payment's invariants, they should never fire behind a valid request.
   */
  static of(userId: string, reservations: readonly PayableReservation[]): Checkout {
    if (reservations.length === 0 || reservations.length > MAX_RESERVATIONS_PER_PAYMENT) {
      throw new Error(
        `A payment covers 1..${MAX_RESERVATIONS_PER_PAYMENT} reservations, got ${reservations.length}`,
      );
    }
    const ids = new Set(reservations.map((reservation) => reservation.id));
    if (ids.size !== reservations.length) {
      throw new Error('A payment cannot list the same reservation twice');
    }
    // Never reveal or charge someone else's reservation: same answer as a missing one.
    const foreign = reservations.find((reservation) => reservation.userId !== userId);
    if (foreign) throw foreignReservation(foreign.id);
    const amount = reservations.reduce((sum, reservation) => sum + reservation.price, 0);
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new Error(`A payment total must be a positive integer, got ${amount}`);
    }
    const ordered = [...reservations].sort((a, b) => a.id - b.id);
    return new Checkout(userId, ordered, amount);
  }

  get seatIds(): number[] {
    return this.reservations.map((reservation) => reservation.seatId);
  }

  /**
   * The receipt lines: each reservation's seat and price, with the concert and schedule as the
   * catalogue describes them now. Every seat must be described (the seats are locked by the
   * holds, so a missing one means a broken catalogue, not a user error).
   */
  receipt(seats: readonly SeatDescription[]): PaymentItem[] {
    const bySeat = new Map(seats.map((seat) => [seat.seatId, seat]));
    return this.reservations.map((reservation) => {
      const seat = bySeat.get(reservation.seatId);
      if (!seat) throw new Error(`No catalogue entry for seat ${reservation.seatId}`);
      return {
        reservationId: reservation.id,
        concertId: seat.concertId,
        concertTitle: seat.concertTitle,
        scheduleId: reservation.scheduleId,
        startsAt: seat.startsAt,
        seatId: reservation.seatId,
        seatNumber: reservation.seatNumber,
        price: reservation.price,
      };
    });
  }
}
