import { BookingEvent, eventSubject } from '../../../common/outbox/booking-event';
import { Payment } from '../domain/payment';

/**
 * The body of POST /payments and POST /payments/{id}/refund, as plain JSON: it is what an
 * Idempotency-Key stores and replays byte for byte, so dates are already ISO strings here.
 */
export interface PaymentView {
  id: number;
  userId: string;
  reservationIds: number[];
  amount: number;
  status: 'COMPLETED' | 'REFUNDED';
  paidAt: string;
  refundedAt: string | null;
}

export function toPaymentView(payment: Payment): PaymentView {
  return {
    id: payment.id,
    userId: payment.userId,
    reservationIds: payment.items.map((item) => item.reservationId),
    amount: payment.amount,
    status: payment.status,
    paidAt: payment.paidAt.toISOString(),
    refundedAt: payment.refundedAt ? payment.refundedAt.toISOString() : null,
  };
}

export type PaymentEventType = Extract<BookingEvent['type'], `payment.${string}`>;

/** A payment's event: its `data` is the payment as the API shows it. */
export function paymentEvent(type: PaymentEventType, payment: Payment): BookingEvent {
  return { type, subject: eventSubject.payment(payment.id), data: toPaymentView(payment) };
}
