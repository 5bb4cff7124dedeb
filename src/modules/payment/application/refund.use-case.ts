import { Injectable } from '@nestjs/common';
import { TransactionHost } from '../../../common/database/transaction';
import { EventOutbox } from '../../../common/outbox/event-outbox';
import { CashService } from '../../cash/domain/cash.service';
import { seatHoldsOf } from '../../concert/domain/seat';
import { SeatService } from '../../concert/domain/seat.service';
import { ReservationService } from '../../reservation/domain/reservation.service';
import { Payment } from '../domain/payment';
import { PaymentService } from '../domain/payment.service';
import { paymentEvent } from './payment.view';

/**
 * The refund transaction, the mirror of CheckoutUseCase: the payment REFUNDED, the money back,
 * the reservations REFUNDED and the seats on sale again, all or nothing.
 */
@Injectable()
export class RefundUseCase {
  constructor(
    private readonly payments: PaymentService,
    private readonly reservations: ReservationService,
    private readonly seats: SeatService,
    private readonly cash: CashService,
    private readonly txHost: TransactionHost,
    private readonly events: EventOutbox,
  ) {}

  /**
   * Refunds the user's payment in ONE transaction; any error rolls every step back. Locks are
   * taken in the order every seat-touching transaction shares: reservation rows (id order), then
   * the user's rows (payment, wallet), then seat rows last. So a refund racing a new hold of its
   * seat, a checkout or the expiry job waits instead of deadlocking. Joins the transaction of an
   * Idempotency-Key claim when there is one, so the key record commits with the refund.
   */
  run(userId: string, paymentId: number): Promise<Payment> {
    return this.txHost.withTransaction(async () => {
      // 404 here, before any lock: a plain read, so an unknown id locks nothing (no gap lock).
      const seen = await this.payments.getOwned(paymentId, userId);
      const locked = await this.reservations.lockPaid(
        userId,
        seen.items.map((item) => item.reservationId),
      );
      // The schedules as they are now: a postponed show moves the refund window with it.
      const shows = await this.seats.receiptLines(seen.items.map((item) => item.seatId));
      // 409 ALREADY_REFUNDED / REFUND_WINDOW_CLOSED, judged under the payment's row lock.
      const payment = await this.payments.refund(
        paymentId,
        userId,
        shows.map((show) => show.startsAt),
      );
      await this.cash.creditRefund(userId, payment.amount, payment.id);
      const refunded = await this.reservations.refund(locked, payment.id);
      await this.seats.releaseSold(seatHoldsOf(refunded));
      await this.events.record(paymentEvent('payment.refunded', payment));
      return payment;
    });
  }
}
