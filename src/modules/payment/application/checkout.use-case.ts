import { Injectable } from '@nestjs/common';
import { TransactionHost } from '../../../common/database/transaction';
import { EventOutbox } from '../../../common/outbox/event-outbox';
import { CashService } from '../../cash/domain/cash.service';
import { seatHoldsOf } from '../../concert/domain/seat';
import { SeatService } from '../../concert/domain/seat.service';
import { ReservationService } from '../../reservation/domain/reservation.service';
import { Checkout, Payment } from '../domain/payment';
import { PaymentService } from '../domain/payment.service';
import { paymentEvent } from './payment.view';

/**
 * The checkout transaction, kept apart from PaymentFacade (which adds the idempotency, the queue
 * token and metrics around it) so neither grows past a handful of collaborators.
 */
@Injectable()
export class CheckoutUseCase {
  constructor(
    private readonly reservations: ReservationService,
    private readonly seats: SeatService,
    private readonly cash: CashService,
    private readonly payments: PaymentService,
    private readonly txHost: TransactionHost,
    private readonly events: EventOutbox,
  ) {}

  /**
   * Pays the user's held reservations in ONE transaction; any error rolls every step back.
   * Lock order is the one all seat-touching transactions share (reservation rows first, in id
   * order, then wallet, then seats), so concurrent payments, holds, cancels and the expiry job
   * wait for each other instead of deadlocking. Joins the transaction of an Idempotency-Key
   * claim when there is one, so the key record commits with the payment.
   */
  run(userId: string, reservationIds: readonly number[]): Promise<Payment> {
    return this.txHost.withTransaction(async () => {
      // 404 / 409 / 410 here; the row locks keep the answer true until the commit.
      const locked = await this.reservations.lockPayable(userId, reservationIds);
      const checkout = Checkout.of(userId, locked.value);
      // One clock for the whole decision: paid at the instant the holds were judged live.
      const paidAt = locked.now;
      const paymentId = await this.payments.record(checkout, paidAt);
      await this.cash.debitForPayment(userId, checkout.amount, paymentId); // 422 if short
      const seats = await this.seats.receiptLines(checkout.seatIds);
      const payment = await this.payments.recordReceipt(paymentId, checkout, seats, paidAt);
      await this.reservations.confirm(locked, paymentId);
      await this.seats.sell(seatHoldsOf(checkout.reservations));
      await this.events.record(paymentEvent('payment.completed', payment));
      return payment;
    });
  }
}
