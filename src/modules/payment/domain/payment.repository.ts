import { Payment, PaymentItem } from './payment';

export interface NewPayment {
  userId: string;
  amount: number;
  /** The database clock at which the reservations were judged payable. */
  paidAt: Date;
}

export abstract class PaymentRepository {
  /** Inserts a COMPLETED payment and returns its id. */
  abstract insertCompleted(payment: NewPayment): Promise<number>;
  /** The receipt lines of a payment (unique per reservation: a reservation is paid once). */
  abstract insertItems(paymentId: number, items: readonly PaymentItem[]): Promise<void>;
  /** The user's payments with their items, newest first. */
  abstract findByUserNewestFirst(userId: string, limit: number): Promise<Payment[]>;
}
