import { NewHold, Reservation, UserSeats } from './reservation';

/** Rows read together with the database clock, which every expiry decision uses. */
export interface ReadAt<T> {
  value: T;
  now: Date;
}

export interface ExpiredHold {
  reservationId: number;
  seatId: number;
}

export abstract class ReservationRepository {
  /**
   * Serialises one user's holds (a row lock held to the end of the transaction), then counts
   * their live holds and their seats in the schedule, so two concurrent holds cannot both see
   * room under either limit. Read with the database clock, which the new hold's end is taken from.
   */
  abstract lockUserForHold(userId: string, scheduleId: number): Promise<ReadAt<UserSeats>>;
  /** Inserts a HELD reservation; null when the seat already has a live one (unique key). */
  abstract insertHold(hold: NewHold): Promise<Reservation | null>;
  abstract findOwned(id: number, userId: string): Promise<ReadAt<Reservation> | null>;
  /** The schedules of those of these reservations that are the user's (never changes). */
  abstract findScheduleIdsOwned(userId: string, ids: readonly number[]): Promise<number[]>;
  /** Like findOwned, and row-locks the reservation to the end of the transaction. */
  abstract findOwnedForUpdate(id: number, userId: string): Promise<ReadAt<Reservation> | null>;
  /** HELD → CANCELLED; returns how many rows changed. */
  abstract markCancelled(id: number): Promise<number>;
  /** Up to `limit` expired HELD reservations, oldest expiry first. */
  abstract findExpiredHolds(limit: number): Promise<ExpiredHold[]>;
  /**
   * HELD and expired → EXPIRED for these ids; returns the reservations this call changed (each
   * one exactly once across racing callers: its expired event is written with it).
   */
  abstract markExpired(reservationIds: readonly number[]): Promise<Reservation[]>;
  /** The user's reservations among `ids`, row-locked in id order (others' are simply absent). */
  abstract lockOwned(userId: string, ids: readonly number[]): Promise<ReadAt<Reservation[]>>;
  /** HELD → CONFIRMED with the payment; returns how many rows changed. */
  abstract markConfirmed(ids: readonly number[], paymentId: number): Promise<number>;
  /** CONFIRMED by that payment → REFUNDED; returns how many rows changed. */
  abstract markRefunded(ids: readonly number[], paymentId: number): Promise<number>;
}
