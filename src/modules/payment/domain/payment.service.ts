import { Injectable } from '@nestjs/common';
import { Checkout, Payment, SeatDescription } from './payment';
import { PaymentRepository } from './payment.repository';

/** How many payments a listing returns (newest first); a fan's lifetime of tickets fits easily. */
export const PAYMENT_LIST_LIMIT = 100;

/** Payments and their receipts. Callers run the writes inside the checkout's transaction. */
@Injectable()
export class PaymentService {
  constructor(private readonly payments: PaymentRepository) {}

  /** Inserts the COMPLETED payment row first: the ledger's PAYMENT row needs its id. */
  open(checkout: Checkout, paidAt: Date): Promise<number> {
    return this.payments.insertCompleted({
      userId: checkout.userId,
      amount: checkout.amount,
      paidAt,
    });
  }

  /**
   * Writes the receipt: one line per reservation with what the catalogue says about its seat now,
   * so the receipt survives later catalogue changes. A reservation can be on one receipt only
   * (unique key), the database's own fence against paying a seat twice.
   */
  async recordReceipt(
    paymentId: number,
    checkout: Checkout,
    seats: readonly SeatDescription[],
    paidAt: Date,
  ): Promise<Payment> {
    const items = checkout.receipt(seats);
    await this.payments.insertItems(paymentId, items);
    return {
      id: paymentId,
      userId: checkout.userId,
      amount: checkout.amount,
      status: 'COMPLETED',
      paidAt,
      items,
    };
  }

  listOfUser(userId: string): Promise<Payment[]> {
    return this.payments.findByUserNewestFirst(userId, PAYMENT_LIST_LIMIT);
  }
}
