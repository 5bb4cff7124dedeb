import { BookingWindow } from './concert';
import { Seat, SeatHold, SeatReceiptLine } from './seat';

export interface SeatForHold {
  seat: Seat;
  /** The booking window of the seat's schedule. */
  booking: BookingWindow;
  /** The database clock when the row was read: every expiry decision uses it. */
  now: Date;
}

export abstract class SeatRepository {
  /** The seat if it belongs to the schedule, read with the booking window and the DB clock. */
  abstract findForHold(scheduleId: number, seatId: number): Promise<SeatForHold | null>;
  /**
   * The fence of every hold: AVAILABLE (or HELD by an expired hold) → HELD until `expiresAt`, in
   * one conditional UPDATE. True only for the caller whose UPDATE changed the row; false too
   * when another transaction has held the row's lock past the lock wait (a stalled taker).
   */
  abstract holdIfFree(scheduleId: number, seatId: number, expiresAt: Date): Promise<boolean>;
  /** Records which reservation holds the seat (the hold's own transaction already owns the row). */
  abstract pinReservation(seatId: number, reservationId: number): Promise<void>;
  /** HELD by one of `holds` → AVAILABLE; returns how many seats changed. */
  abstract releaseHeldBy(holds: readonly SeatHold[]): Promise<number>;
  /** HELD by one of `holds` → SOLD; returns how many seats changed. */
  abstract sellHeldBy(holds: readonly SeatHold[]): Promise<number>;
  /** SOLD to one of `holds` (refunded) → AVAILABLE; returns how many seats changed. */
  abstract releaseSoldBy(holds: readonly SeatHold[]): Promise<number>;
  abstract findReceiptLines(seatIds: readonly number[]): Promise<SeatReceiptLine[]>;
}
