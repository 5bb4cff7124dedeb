/** Read models of the catalogue. Listings return these straight from the repository. */
export interface Concert {
  id: number;
  title: string;
  performer: string | null;
  createdAt: Date;
}

export interface ScheduleSummary {
  id: number;
  concertId: number;
  startsAt: Date;
  bookingOpensAt: Date;
  bookingClosesAt: Date;
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
