import { Payment, PaymentItem } from './payment';

export interface NewPayment {
  userId: string;
  amount: number;
  /** The database clock at which the reservations were judged payable. */
  paidAt: Date;
}

/** A payment read under its row lock, with the database clock of that read. */
export interface LockedPayment {
  payment: Payment;
  now: Date;
}

export abstract class PaymentRepository {
  /** Inserts a COMPLETED payment and returns its id. */
  abstract insertCompleted(payment: NewPayment): Promise<number>;
  /** The receipt lines of a payment (unique per reservation: a reservation is paid once). */
  abstract insertItems(paymentId: number, items: readonly PaymentItem[]): Promise<void>;
  /** The user's payments with their items, newest first. */
  abstract findByUserNewestFirst(userId: string, limit: number): Promise<Payment[]>;
  /** The payment with its items if it is the user's (a plain read, no locks); else null. */
  abstract findOwned(id: number, userId: string): Promise<Payment | null>;
  /**
   * Like findOwned, but row-locks the payment to the end of the transaction and reads its latest
   * committed status, so concurrent refunds of it are decided one after another.
   */
  abstract lockOwned(id: number, userId: string): Promise<LockedPayment | null>;
  /** COMPLETED → REFUNDED at `refundedAt`; returns how many rows changed. */
  abstract markRefunded(id: number, refundedAt: Date): Promise<number>;
}
