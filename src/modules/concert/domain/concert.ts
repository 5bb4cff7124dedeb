/** Read models of the catalogue. Listings return these straight from the repository. */
export interface Concert {
  id: number;
  title: string;
  performer: string | null;
  createdAt: Date;
}

/** When a schedule sells: from `bookingOpensAt` (inclusive) until `bookingClosesAt` (exclusive). */
export interface BookingWindow {
  bookingOpensAt: Date;
  bookingClosesAt: Date;
}

/**
 * The booking window rule; `now` is the database clock. Its SQL statement is `bookingOpen`
 * (infrastructure/schedule.sql.ts), and test/integration/rules-agree.spec.ts keeps the two equal.
 */
export function isBookingOpenAt(window: BookingWindow, now: Date): boolean {
  return (
    window.bookingOpensAt.getTime() <= now.getTime() &&
    now.getTime() < window.bookingClosesAt.getTime()
  );
}

export interface ScheduleSummary extends BookingWindow {
  id: number;
  concertId: number;
  startsAt: Date;
  totalSeats: number;
  availableSeats: number;
}

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

export interface SeatView {
  id: number;
  number: number;
  price: number;
  status: SeatStatus;
}

export interface NewConcert {
  title: string;
  performer: string | null;
}
