import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { BatchedLoader } from '../../../common/batching/batched-loader';
import { asWriteResult, DB_NOW, isLockWaitTimeout } from '../../../common/database/sql';
import { SeatStatus } from '../domain/concert';
import { Seat, SeatHold, SeatReceiptLine } from '../domain/seat';
import { SeatForHold, SeatRepository } from '../domain/seat.repository';
import { seatIsFree } from './seat.sql';

/** A `seats` row as stored; `toSeat` is what it means (tests judge rows through it too). */
export interface SeatRow {
  id: number;
  schedule_id: number;
  number: number;
  price: number;
  status: SeatStatus;
  reservation_id: number | null;
  hold_expires_at: Date | null;
}

interface SeatForHoldRow extends SeatRow {
  booking_opens_at: Date;
  booking_closes_at: Date;
  db_now: Date;
}

interface ReceiptRow {
  seat_id: number;
  number: number;
  schedule_id: number;
  starts_at: Date;
  concert_id: number;
  title: string;
}

@Injectable()
export class SeatSqlRepository extends SeatRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  // The pre-checks of holds that arrive together share one query: in an on-sale burst most of
  // them ask for the same few seats. Advisory only; the conditional UPDATE in holdIfFree decides.
  private readonly holdCandidates = new BatchedLoader<number, SeatForHoldRow>((seatIds) =>
    this.loadForHold(seatIds),
  );

  async findForHold(scheduleId: number, seatId: number): Promise<SeatForHold | null> {
    // Inside a transaction the read belongs to it (its connection, its snapshot): never shared.
    const row = this.txHost.isTransactionActive()
      ? (await this.loadForHold([seatId])).get(seatId)
      : await this.holdCandidates.load(seatId);
    if (!row || Number(row.schedule_id) !== scheduleId) return null;
    return {
      seat: toSeat(row),
      booking: { bookingOpensAt: row.booking_opens_at, bookingClosesAt: row.booking_closes_at },
      now: row.db_now,
    };
  }

  private async loadForHold(seatIds: number[]): Promise<Map<number, SeatForHoldRow>> {
    const rows = await this.query<SeatForHoldRow[]>(
      `SELECT s.id, s.schedule_id, s.number, s.price, s.status, s.reservation_id, s.hold_expires_at,
              cs.booking_opens_at, cs.booking_closes_at, ${DB_NOW} AS db_now
         FROM seats s JOIN concert_schedules cs ON cs.id = s.schedule_id
        WHERE s.id IN (?)`,
      [seatIds],
    );
    return new Map(rows.map((row) => [Number(row.id), row]));
  }

  async holdIfFree(scheduleId: number, seatId: number, expiresAt: Date): Promise<boolean> {
    let result: unknown;
    try {
      result = await this.query(
        `UPDATE seats SET status = 'HELD', hold_expires_at = ?, reservation_id = NULL, updated_at = ${DB_NOW}
          WHERE id = ? AND schedule_id = ? AND ${seatIsFree('seats')}`,
        [expiresAt, seatId, scheduleId],
      );
    } catch (error) {
      // The seat row is locked by a transaction that is taking, paying for or freeing this seat
      // and has stalled (a paused instance keeps its locks): the seat is not free now, and the
      // fan hears so within the hold's lock wait (1 s) instead of queueing behind it (ADR 0013).
      if (isLockWaitTimeout(error)) return false;
      throw error;
    }
    return asWriteResult(result).affectedRows === 1;
  }

  async pinReservation(seatId: number, reservationId: number): Promise<void> {
    await this.query('UPDATE seats SET reservation_id = ? WHERE id = ?', [reservationId, seatId]);
  }

  releaseHeldBy(holds: readonly SeatHold[]): Promise<number> {
    return this.releaseBy('HELD', holds);
  }

  releaseSoldBy(holds: readonly SeatHold[]): Promise<number> {
    return this.releaseBy('SOLD', holds);
  }

  private async releaseBy(from: 'HELD' | 'SOLD', holds: readonly SeatHold[]): Promise<number> {
    // A reservation holds exactly one seat, so "seat in the list AND its holder in the list" is
    // the pairwise match; a seat re-held by a newer reservation is left alone.
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL, hold_expires_at = NULL,
                updated_at = ${DB_NOW}
          WHERE id IN (?) AND status = ? AND reservation_id IN (?)`,
        [holds.map((hold) => hold.seatId), from, holds.map((hold) => hold.reservationId)],
      ),
    );
    return affectedRows;
  }

  async sellHeldBy(holds: readonly SeatHold[]): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE seats SET status = 'SOLD', hold_expires_at = NULL, updated_at = ${DB_NOW}
          WHERE id IN (?) AND status = 'HELD' AND reservation_id IN (?)`,
        [holds.map((hold) => hold.seatId), holds.map((hold) => hold.reservationId)],
      ),
    );
    return affectedRows;
  }

  async findReceiptLines(seatIds: readonly number[]): Promise<SeatReceiptLine[]> {
    if (seatIds.length === 0) return [];
    const rows = await this.query<ReceiptRow[]>(
      `SELECT s.id AS seat_id, s.number, cs.id AS schedule_id, cs.starts_at, c.id AS concert_id, c.title
         FROM seats s
         JOIN concert_schedules cs ON cs.id = s.schedule_id
         JOIN concerts c ON c.id = cs.concert_id
        WHERE s.id IN (?)`,
      [seatIds],
    );
    return rows.map((row) => ({
      seatId: row.seat_id,
      seatNumber: row.number,
      scheduleId: row.schedule_id,
      startsAt: row.starts_at,
      concertId: row.concert_id,
      concertTitle: row.title,
    }));
  }
}

export function toSeat(row: SeatRow): Seat {
  return new Seat(
    row.id,
    row.schedule_id,
    row.number,
    row.price,
    row.status,
    row.reservation_id,
    row.hold_expires_at,
  );
}
