import { Inject, Injectable } from '@nestjs/common';
import { reservationConfig, ReservationConfig } from '../../../common/config/configuration';
import { HoldLimit, holdExpiresAt, NewHold, Reservation } from './reservation';
import { reservationNotFound } from './reservation.errors';
import { ExpiredHold, ReadAt, ReservationRepository } from './reservation.repository';

/** The seat a new hold is for (from the catalogue, checked just before). */
export interface SeatToHold {
  id: number;
  scheduleId: number;
  number: number;
  price: number;
}

/** Reservations: holding, reading, cancelling, expiring and confirming them. */
@Injectable()
export class ReservationService {
  private readonly limit: HoldLimit;

  constructor(
    private readonly reservations: ReservationRepository,
    @Inject(reservationConfig.KEY) private readonly config: ReservationConfig,
  ) {
    this.limit = new HoldLimit(config.maxHoldsPerUser, config.maxSeatsPerSchedule);
  }

  /**
   * First step of a hold's transaction: takes the user's lock, checks the hold and purchase
   * limits and returns when the new hold will end (database clock).
   */
  async startHold(userId: string, scheduleId: number): Promise<Date> {
    const { value: seats, now } = await this.reservations.lockUserForHold(userId, scheduleId);
    this.limit.assertRoomForOneMore(seats);
    return holdExpiresAt(now, this.config.holdSeconds);
  }

  /** Marks EXPIRED the expired hold still pinned to a seat; returns it if this call did. */
  async retireExpiredHold(reservationId: number | null): Promise<Reservation | null> {
    if (reservationId === null) return null;
    const [expired] = await this.reservations.markExpired([reservationId]);
    return expired ?? null;
  }

  /**
   * Inserts the hold, or returns null when the seat already has a live reservation the seat row
   * did not reveal (the unique key: the second fence).
   */
  createHold(userId: string, seat: SeatToHold, expiresAt: Date): Promise<Reservation | null> {
    const hold: NewHold = {
      userId,
      scheduleId: seat.scheduleId,
      seatId: seat.id,
      seatNumber: seat.number,
      price: seat.price,
      expiresAt,
    };
    return this.reservations.insertHold(hold);
  }

  /** The caller's reservation as it stands now; anyone else's is "not found". */
  async getOwned(id: number, userId: string): Promise<Reservation> {
    const found = await this.reservations.findOwned(id, userId);
    if (!found) throw reservationNotFound(id);
    return found.value.seenAt(found.now);
  }

  /** The schedules the user's reservations among `ids` are for; others' and missing ones are left out. */
  scheduleIdsOwned(userId: string, ids: readonly number[]): Promise<number[]> {
    return this.reservations.findScheduleIdsOwned(userId, ids);
  }

  /** Cancels the caller's live hold (row-locked, so it cannot race a payment or the job). */
  async cancel(id: number, userId: string): Promise<Reservation> {
    const found = await this.reservations.findOwnedForUpdate(id, userId);
    if (!found) throw reservationNotFound(id);
    const cancelled = found.value.cancel(found.now);
    await this.reservations.markCancelled(id);
    return cancelled;
  }

  findExpiredHolds(limit: number): Promise<ExpiredHold[]> {
    return this.reservations.findExpiredHolds(limit);
  }

  /**
   * Marks these expired holds EXPIRED. Conditional on each row still being HELD and expired, so
   * when several job runners race, each reservation is marked by exactly one of them.
   */
  expire(holds: readonly ExpiredHold[]): Promise<Reservation[]> {
    return holds.length === 0
      ? Promise.resolve([])
      : this.reservations.markExpired(holds.map((hold) => hold.reservationId));
  }

  /**
   * Locks the caller's reservations for a payment and checks each is payable now. Missing and
   * someone else's both answer 404, so a payment never reveals another user's reservation.
   */
  async lockPayable(userId: string, ids: readonly number[]): Promise<ReadAt<Reservation[]>> {
    const locked = await this.reservations.lockOwned(userId, ids);
    const byId = new Map(locked.value.map((reservation) => [reservation.id, reservation]));
    const missing = ids.find((id) => !byId.has(id));
    if (missing !== undefined) throw reservationNotFound(missing);
    for (const reservation of locked.value) reservation.assertPayableAt(locked.now);
    return locked;
  }

  /** Marks paid reservations CONFIRMED; each must change exactly once. */
  async confirm(locked: ReadAt<Reservation[]>, paymentId: number): Promise<Reservation[]> {
    const confirmed = locked.value.map((reservation) => reservation.confirm(paymentId, locked.now));
    const changed = await this.reservations.markConfirmed(
      confirmed.map((reservation) => reservation.id),
      paymentId,
    );
    if (changed !== confirmed.length) {
      throw new Error(`Confirmed ${changed} of ${confirmed.length} locked reservations`);
    }
    return confirmed;
  }

  /**
   * Locks a payment's reservations for its refund, in id order: the first lock of the refund's
   * transaction, as in every transaction that touches seats. All of them must exist and be the
   * payer's (they are on the payment's receipt); anything else is a broken invariant.
   */
  async lockPaid(userId: string, ids: readonly number[]): Promise<ReadAt<Reservation[]>> {
    const locked = await this.reservations.lockOwned(userId, ids);
    if (locked.value.length !== ids.length) {
      throw new Error(`Locked ${locked.value.length} of the ${ids.length} reservations paid`);
    }
    return locked;
  }

  /** Marks a refunded payment's reservations REFUNDED; each must change exactly once. */
  async refund(locked: ReadAt<Reservation[]>, paymentId: number): Promise<Reservation[]> {
    const refunded = locked.value.map((reservation) => reservation.refund(paymentId));
    const changed = await this.reservations.markRefunded(
      refunded.map((reservation) => reservation.id),
      paymentId,
    );
    if (changed !== refunded.length) {
      throw new Error(`Refunded ${changed} of ${refunded.length} locked reservations`);
    }
    return refunded;
  }
}
