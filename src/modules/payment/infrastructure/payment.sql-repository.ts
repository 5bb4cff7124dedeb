import { SqlRunner, TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { asWriteResult, DB_NOW, isDuplicateKeyError } from '../../../common/database/sql';
import { Payment, PaymentItem, PaymentStatus } from '../domain/payment';
import { reservationAlreadyPaid } from '../domain/payment.errors';
import { LockedPayment, NewPayment, PaymentRepository } from '../domain/payment.repository';

interface PaymentRow {
  id: number;
  user_id: string;
  amount: number | string;
  status: PaymentStatus;
  paid_at: Date;
  refunded_at: Date | null;
}

const COLUMNS = 'id, user_id, amount, status, paid_at, refunded_at';

interface ItemRow {
  payment_id: number;
  reservation_id: number;
  concert_id: number;
  concert_title: string;
  schedule_id: number;
  starts_at: Date;
  seat_id: number;
  seat_number: number;
  price: number;
}

@Injectable()
export class PaymentSqlRepository extends PaymentRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  async insertCompleted(payment: NewPayment): Promise<number> {
    const { insertId } = asWriteResult(
      await this.query(
        `INSERT INTO payments (user_id, amount, status, paid_at, created_at)
         VALUES (?, ?, 'COMPLETED', ?, ${DB_NOW})`,
        [payment.userId, payment.amount, payment.paidAt],
      ),
    );
    return insertId;
  }

  async insertItems(paymentId: number, items: readonly PaymentItem[]): Promise<void> {
    try {
      await this.query(
        `INSERT INTO payment_items
           (payment_id, reservation_id, concert_id, concert_title, schedule_id, starts_at,
            seat_id, seat_number, price)
         VALUES ?`,
        [items.map((item) => toItemValues(paymentId, item))],
      );
    } catch (error) {
      // uq_payment_items_reservation: the reservation is on another receipt already. The row
      // locks make this unreachable; should it happen, it is "already paid", never a second sale.
      if (isDuplicateKeyError(error)) {
        throw reservationAlreadyPaid();
      }
      throw error;
    }
  }

  async findByUserNewestFirst(userId: string, limit: number): Promise<Payment[]> {
    const payments = await this.txHost.readsUpToDate.query<PaymentRow[]>(
      `SELECT ${COLUMNS} FROM payments WHERE user_id = ? ORDER BY id DESC LIMIT ?`,
      [userId, limit],
    );
    return this.withItems(payments, this.txHost.readsUpToDate);
  }

  async findOwned(id: number, userId: string): Promise<Payment | null> {
    const rows = await this.txHost.readsUpToDate.query<PaymentRow[]>(
      `SELECT ${COLUMNS} FROM payments WHERE id = ? AND user_id = ?`,
      [id, userId],
    );
    const [payment] = await this.withItems(rows, this.txHost.readsUpToDate);
    return payment ?? null;
  }

  async lockOwned(id: number, userId: string): Promise<LockedPayment | null> {
    // A primary-key lookup of a row the caller has just seen: a record lock only, no gap lock
    // that could stall concurrent checkouts inserting new payments.
    const rows = await this.query<(PaymentRow & { db_now: Date })[]>(
      `SELECT ${COLUMNS}, ${DB_NOW} AS db_now FROM payments WHERE id = ? AND user_id = ? FOR UPDATE`,
      [id, userId],
    );
    const [payment] = await this.withItems(rows);
    return payment ? { payment, now: rows[0].db_now } : null;
  }

  async markRefunded(id: number, refundedAt: Date): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(
        `UPDATE payments SET status = 'REFUNDED', refunded_at = ?
          WHERE id = ? AND status = 'COMPLETED'`,
        [refundedAt, id],
      ),
    );
    return affectedRows;
  }

  private async withItems(
    payments: readonly PaymentRow[],
    reads: SqlRunner = this.txHost.tx,
  ): Promise<Payment[]> {
    if (payments.length === 0) return [];
    // Receipt lines never change after the payment, so a plain read is exact even under a lock.
    const items = await reads.query<ItemRow[]>(
      `SELECT payment_id, reservation_id, concert_id, concert_title, schedule_id, starts_at,
              seat_id, seat_number, price
         FROM payment_items WHERE payment_id IN (?) ORDER BY payment_id, reservation_id`,
      [payments.map((payment) => payment.id)],
    );
    return payments.map((row) => toPayment(row, items));
  }
}

function toItemValues(paymentId: number, item: PaymentItem): unknown[] {
  return [
    paymentId,
    item.reservationId,
    item.concertId,
    item.concertTitle,
    item.scheduleId,
    item.startsAt,
    item.seatId,
    item.seatNumber,
    item.price,
  ];
}

function toPayment(row: PaymentRow, items: readonly ItemRow[]): Payment {
  return {
    id: row.id,
    userId: row.user_id,
    amount: Number(row.amount),
    status: row.status,
    paidAt: row.paid_at,
    refundedAt: row.refunded_at,
    items: items
      .filter((item) => item.payment_id === row.id)
      .map((item) => ({
        reservationId: item.reservation_id,
        concertId: item.concert_id,
        concertTitle: item.concert_title,
        scheduleId: item.schedule_id,
        startsAt: item.starts_at,
        seatId: item.seat_id,
        seatNumber: item.seat_number,
        price: item.price,
      })),
  };
}
