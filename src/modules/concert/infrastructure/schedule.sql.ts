import { DB_NOW } from '../../../common/database/sql';

/**
 * The booking window in SQL: open from `booking_opens_at` (inclusive) until `booking_closes_at`
 * (exclusive). Its TypeScript statement is `isBookingOpenAt` (domain/concert.ts), and
 * test/integration/rules-agree.spec.ts runs both on the same rows. `schedule` names a
 * `concert_schedules` row, `now` is an SQL expression for the instant (the database clock).
 */
export function bookingOpen(schedule: string, now: string = DB_NOW): string {
  return `(${schedule}.booking_opens_at <= ${now} AND ${schedule}.booking_closes_at > ${now})`;
}
