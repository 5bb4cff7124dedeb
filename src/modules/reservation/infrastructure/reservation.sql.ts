import { DB_NOW } from '../../../common/database/sql';

// Reservation expiry in SQL. Its TypeScript statement is `Reservation.holdExpiredAt`
// (domain/reservation.ts), and test/integration/rules-agree.spec.ts runs both on the same rows.
// `reservation` names a `reservations` row (an alias or the table), `now` is an SQL expression for
// the instant: the database clock unless a caller asks about another instant.

/** The hold's end is reached: the instant itself included. */
function expiryReached(reservation: string, now: string): string {
  return `${reservation}.expires_at <= ${now}`;
}

/**
 * HELD with its end reached: EXPIRED for every purpose, even before the release job (or the next
 * hold of its seat) rewrites the row.
 */
export function reservationHoldExpired(reservation: string, now: string = DB_NOW): string {
  return `(${reservation}.status = 'HELD' AND ${expiryReached(reservation, now)})`;
}

/** HELD and not expired: a hold that still counts (Reservation.isLiveHoldAt). */
export function reservationHoldLive(reservation: string, now: string = DB_NOW): string {
  return `(${reservation}.status = 'HELD' AND NOT (${expiryReached(reservation, now)}))`;
}
