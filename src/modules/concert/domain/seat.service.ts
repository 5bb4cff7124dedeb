import { Injectable } from '@nestjs/common';
import { isBookingOpenAt } from './concert';
import { bookingClosed, seatNotFound, seatUnavailable } from './concert.errors';
import { HoldableSeat, SeatHold, SeatReceiptLine } from './seat';
import { SeatRepository } from './seat.repository';

/** Seat state changes for holds, payments and refunds; the catalogue lives in ConcertService. */
@Injectable()
export class SeatService {
  constructor(private readonly seats: SeatRepository) {}

  /**
   * Checks a seat before a hold: it exists in that schedule (404), booking is open now (409) and
   * it is neither sold nor under a live hold (409). A plain read, so it can only turn away a
   * request early; who gets the seat is decided by `hold`.
   */
  async getHoldable(scheduleId: number, seatId: number): Promise<HoldableSeat> {
    const found = await this.seats.findForHold(scheduleId, seatId);
    if (!found) throw seatNotFound(scheduleId, seatId);
    const { seat, booking, now } = found;
    if (!isBookingOpenAt(booking, now)) throw bookingClosed(scheduleId);
    if (!seat.isHoldableAt(now)) throw seatUnavailable(seatId);
    return {
      id: seat.id,
      scheduleId: seat.scheduleId,
      number: seat.number,
      price: seat.price,
      expiredReservationId: seat.expiredReservationAt(now),
    };
  }

  /** Takes the seat until `expiresAt`, or throws SEAT_UNAVAILABLE when someone else has it. */
  async hold(seat: HoldableSeat, expiresAt: Date): Promise<void> {
    if (!(await this.seats.holdIfFree(seat.scheduleId, seat.id, expiresAt))) {
      throw seatUnavailable(seat.id);
    }
  }

  pinReservation(hold: SeatHold): Promise<void> {
    return this.seats.pinReservation(hold.seatId, hold.reservationId);
  }

  /** Frees the seats still held by these reservations (cancelled or expired). */
  release(holds: readonly SeatHold[]): Promise<number> {
    return holds.length === 0 ? Promise.resolve(0) : this.seats.releaseHeldBy(holds);
  }

  /**
   * Sells the seats of paid reservations. The caller holds the reservations' row locks and has
   * checked them live, so every seat must still be HELD by its reservation; anything else is a
   * broken invariant and aborts the payment's transaction.
   */
  async sell(holds: readonly SeatHold[]): Promise<void> {
    const sold = await this.seats.sellHeldBy(holds);
    if (sold !== holds.length) {
      throw new Error(
        `Sold ${sold} of ${holds.length} seats: a paid seat was not held by its reservation`,
      );
    }
  }

  /**
   * Puts the seats of refunded reservations back on sale. The caller holds the reservations' row
   * locks and has seen them CONFIRMED, so every seat must still be SOLD to its reservation;
   * anything else is a broken invariant and aborts the refund's transaction.
   */
  async releaseSold(holds: readonly SeatHold[]): Promise<void> {
    const released = await this.seats.releaseSoldBy(holds);
    if (released !== holds.length) {
      throw new Error(
        `Released ${released} of ${holds.length} seats: a refunded seat was not sold to its reservation`,
      );
    }
  }

  receiptLines(seatIds: readonly number[]): Promise<SeatReceiptLine[]> {
    return this.seats.findReceiptLines(seatIds);
  }
}
