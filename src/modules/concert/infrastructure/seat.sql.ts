import { DB_NOW } from '../../../common/database/sql';

// The seat rules in SQL. Their TypeScript statement is `Seat` (domain/seat.ts), and
// test/integration/rules-agree.spec.ts runs both on the same rows. `seat` names a `seats` row (an
// alias or the table), `now` is an SQL expression for the instant: the database clock unless a
// caller asks about another instant.

/**
 * HELD by a hold that has expired (`hold_expires_at` reached, the instant itself included): the
 * seat is free to readers and to the next hold at once, before the release job tidies the row.
 */
export function seatHoldExpired(seat: string, now: string = DB_NOW): string {
  return `(${seat}.status = 'HELD' AND ${seat}.hold_expires_at <= ${now})`;
}

/** The status a client sees at `now` (Seat.statusAt). */
export function seatStatusAt(seat: string, now: string = DB_NOW): string {
  return `(CASE WHEN ${seatHoldExpired(seat, now)} THEN 'AVAILABLE' ELSE ${seat}.status END)`;
}

/** A hold may take the seat at `now` (Seat.isHoldableAt). */
export function seatIsFree(seat: string, now: string = DB_NOW): string {
  return `(${seat}.status = 'AVAILABLE' OR ${seatHoldExpired(seat, now)})`;
}
