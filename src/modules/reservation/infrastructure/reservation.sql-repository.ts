import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import {
  asWriteResult,
  DB_NOW,
  isDuplicateKeyError,
  isLockWaitTimeout,
} from '../../../common/database/sql';
import { NewHold, Reservation, ReservationStatus, UserSeats } from '../domain/reservation';
import { ExpiredHold, ReadAt, ReservationRepository } from '../domain/reservation.repository';
import { reservationHoldExpired, reservationHoldLive } from './reservation.sql';

/** A `reservations` row as stored; `toReservation` is what it means (tests judge rows through it too). */
export interface ReservationRow {
  id: number;
  user_id: string;
  schedule_id: number;
  seat_id: number;
  seat_number: number;
  price: number;
  status: ReservationStatus;
  expires_at: Date;
  payment_id: number | null;
}

/** A row read together with the database clock (COLUMNS). */
interface ReservationRowAt extends ReservationRow {
  db_now: Date;
}

const COLUMNS = `id, user_id, schedule_id, seat_id, seat_number, price, status, expires_at, payment_id,
  ${DB_NOW} AS db_now`;

@Injectable()
export class ReservationSqlRepository extends ReservationRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  async lockUserForHold(userId: string, scheduleId: number): Promise<ReadAt<UserSeats>> {
    // The user's row is the per-user mutex: a locking read on a range of `reservations` would
    // take gap locks, and two holds of one user would then deadlock on their inserts.
    await this.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [userId]);
    // A plain read after the lock: the transaction's snapshot starts here, so it sees every hold
    // this user committed before we got the lock.
    const [row] = await this.query<
      {
        live_holds: number | string | null;
        in_schedule: number | string | null;
        db_now: Date;
      }[]
    >(
      `SELECT SUM(${reservationHoldLive('reservations')}) AS live_holds,
              SUM(schedule_id = ?
                  AND (status = 'CONFIRMED' OR ${reservationHoldLive('reservations')})) AS in_schedule,
              ${DB_NOW} AS db_now
         FROM reservations
        WHERE user_id = ? AND status IN ('HELD', 'CONFIRMED')`,
      [scheduleId, userId],
    );
    return {
      value: {
        liveHolds: Number(row.live_holds ?? 0),
        seatsInSchedule: Number(row.in_schedule ?? 0),
      },
      now: row.db_now,
    };
  }

  async insertHold(hold: NewHold): Promise<Reservation | null> {
    try {
      const { insertId } = asWriteResult(
        await this.query(
          `INSERT INTO reservations
             (user_id, schedule_id, seat_id, seat_number, price, status, expires_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'HELD', ?, ${DB_NOW}, ${DB_NOW})`,
          [hold.userId, hold.scheduleId, hold.seatId, hold.seatNumber, hold.price, hold.expiresAt],
        ),
      );
      return Reservation.held(insertId, hold);
    } catch (error) {
      // uq_reservations_live_seat: the seat already has a HELD or CONFIRMED reservation, or a
      // stalled transaction is inserting one and holds the key's lock past the lock wait.
      if (isDuplicateKeyError(error) || isLockWaitTimeout(error)) return null;
      throw error;
    }
  }

  async findOwned(id: number, userId: string): Promise<ReadAt<Reservation> | null> {
    const rows = await this.txHost.readsUpToDate.query<ReservationRowAt[]>(
      `SELECT ${COLUMNS} FROM reservations WHERE id = ? AND user_id = ?`,
      [id, userId],
    );
    return rows[0] ? { value: toReservation(rows[0]), now: rows[0].db_now } : null;
  }

  async findScheduleIdsOwned(userId: string, ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.query<{ schedule_id: number }[]>(
      'SELECT DISTINCT schedule_id FROM reservations WHERE user_id = ? AND id IN (?)',
      [userId, ids],
    );
    return rows.map((row) => Number(row.schedule_id));
  }

  async findOwnedForUpdate(id: number, userId: string): Promise<ReadAt<Reservation> | null> {
    const rows = await this.query<ReservationRowAt[]>(
      `SELECT ${COLUMNS} FROM reservations WHERE id = ? AND user_id = ? FOR UPDATE`,
      [id, userId],
    );
    return rows[0] ? { value: toReservation(rows[0]), now: rows[0].db_now } : null;
  }

  async markCancelled(id: number): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE reservations SET status = 'CANCELLED', updated_at = ${DB_NOW}
          WHERE id = ? AND status = 'HELD'`,
        [id],
      ),
    );
    return affectedRows;
  }

  async findExpiredHolds(limit: number): Promise<ExpiredHold[]> {
    // A plain read (no locks): the locking read in markExpired decides who expires what.
    const rows = await this.query<{ id: number; seat_id: number }[]>(
      `SELECT id, seat_id FROM reservations
        WHERE ${reservationHoldExpired('reservations')}
        ORDER BY expires_at LIMIT ?`,
      [limit],
    );
    return rows.map((row) => ({ reservationId: row.id, seatId: row.seat_id }));
  }

  async markExpired(reservationIds: readonly number[]): Promise<Reservation[]> {
    // Rows are locked in primary-key order whatever the list order, so concurrent runners with
    // overlapping batches wait for each other instead of deadlocking. The locking read sees the
    // latest committed rows: one another runner expired meanwhile is not returned, so each
    // reservation (and its expired event) is this call's or another's, never both.
    const rows = await this.query<ReservationRowAt[]>(
      `SELECT ${COLUMNS} FROM reservations FORCE INDEX (PRIMARY)
        WHERE id IN (?) AND ${reservationHoldExpired('reservations')}
        ORDER BY id FOR UPDATE`,
      [reservationIds],
    );
    if (rows.length === 0) return [];
    await this.query(
      `UPDATE reservations SET status = 'EXPIRED', updated_at = ${DB_NOW} WHERE id IN (?)`,
      [rows.map((row) => row.id)],
    );
    return rows.map((row) => toReservation(row).seenAt(row.db_now));
  }

  async lockOwned(userId: string, ids: readonly number[]): Promise<ReadAt<Reservation[]>> {
    const rows = await this.query<ReservationRowAt[]>(
      `SELECT ${COLUMNS} FROM reservations FORCE INDEX (PRIMARY)
        WHERE id IN (?) AND user_id = ? ORDER BY id FOR UPDATE`,
      [ids, userId],
    );
    // The clock comes with the rows; an empty result still needs one for the caller.
    const now = rows[0]?.db_now ?? (await this.databaseNow());
    return { value: rows.map(toReservation), now };
  }

  async markConfirmed(ids: readonly number[], paymentId: number): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE reservations SET status = 'CONFIRMED', payment_id = ?, updated_at = ${DB_NOW}
          WHERE id IN (?) AND status = 'HELD'`,
        [paymentId, ids],
      ),
    );
    return affectedRows;
  }

  async markRefunded(ids: readonly number[], paymentId: number): Promise<number> {
    // By primary key, the rows lockOwned already holds: no gap locks on the payment_id column.
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE reservations SET status = 'REFUNDED', updated_at = ${DB_NOW}
          WHERE id IN (?) AND payment_id = ? AND status = 'CONFIRMED'`,
        [ids, paymentId],
      ),
    );
    return affectedRows;
  }

  private async databaseNow(): Promise<Date> {
    const [row] = await this.query<{ db_now: Date }[]>(`SELECT ${DB_NOW} AS db_now`);
    return row.db_now;
  }
}

export function toReservation(row: ReservationRow): Reservation {
  return new Reservation(
    row.id,
    row.user_id,
    row.schedule_id,
    row.seat_id,
    row.seat_number,
    row.price,
    row.status,
    row.expires_at,
    row.payment_id,
  );
}
