import { Inject, Injectable } from '@nestjs/common';
import { paymentConfig, PaymentConfig } from '../../../common/config/configuration';
import { Checkout, Payment, RefundPolicy, SeatDescription } from './payment';
import { paymentNotFound } from './payment.errors';
import { PaymentRepository } from './payment.repository';

/** How many payments a listing returns (newest first); a fan's lifetime of tickets fits easily. */
export const PAYMENT_LIST_LIMIT = 100;

/** Payments and their receipts. Callers run the writes inside the checkout's transaction. */
@Injectable()
export class PaymentService {
  private readonly refundPolicy: RefundPolicy;

  constructor(
    private readonly payments: PaymentRepository,
    @Inject(paymentConfig.KEY) config: PaymentConfig,
  ) {
    this.refundPolicy = new RefundPolicy(config.refundCutoffHours);
  }

  /**
   * Records the checkout as a COMPLETED payment and returns its id. It is written before the
   * debit and the receipt inside one transaction, because the ledger's PAYMENT row needs its id.
   */
  record(checkout: Checkout, paidAt: Date): Promise<number> {
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
      refundedAt: null,
      items,
    };
  }

  listOfUser(userId: string): Promise<Payment[]> {
    return this.payments.findByUserNewestFirst(userId, PAYMENT_LIST_LIMIT);
  }

  /** The caller's payment in any status; anyone else's is "not found", exactly as a missing one. */
  async getOwned(id: number, userId: string): Promise<Payment> {
    const payment = await this.payments.findOwned(id, userId);
    if (!payment) throw paymentNotFound(id);
    return payment;
  }

  /**
   * Marks the caller's payment REFUNDED inside the caller's transaction, if RefundPolicy allows it
   * at the database clock. The row lock makes concurrent refunds of one payment take turns: the
   * second reads REFUNDED and is refused.
   */
  async refund(id: number, userId: string, scheduleStarts: readonly Date[]): Promise<Payment> {
    const locked = await this.payments.lockOwned(id, userId);
    if (!locked) throw paymentNotFound(id);
    const refunded = this.refundPolicy.refund(locked.payment, scheduleStarts, locked.now);
    const changed = await this.payments.markRefunded(id, locked.now);
    if (changed !== 1) throw new Error(`Refunded ${changed} rows of locked payment ${id}`);
    return refunded;
  }
}
