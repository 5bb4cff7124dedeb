import { BookingEvent, eventSubject } from '../../../common/outbox/booking-event';
import { Reservation } from '../domain/reservation';

/** A reservation as the API shows it (the response body and the events' `data`), as plain JSON. */
export interface ReservationView {
  id: number;
  userId: string;
  scheduleId: number;
  seatId: number;
  seatNumber: number;
  price: number;
  status: Reservation['status'];
  expiresAt: string;
  paymentId: number | null;
}

export function toReservationView(reservation: Reservation): ReservationView {
  return {
    id: reservation.id,
    userId: reservation.userId,
    scheduleId: reservation.scheduleId,
    seatId: reservation.seatId,
    seatNumber: reservation.seatNumber,
    price: reservation.price,
    status: reservation.status,
    expiresAt: reservation.expiresAt.toISOString(),
    paymentId: reservation.paymentId,
  };
}

export type ReservationEventType = Extract<BookingEvent['type'], `reservation.${string}`>;

export function reservationEvent(
  type: ReservationEventType,
  reservation: Reservation,
): BookingEvent {
  return {
    type,
    subject: eventSubject.reservation(reservation.id),
    data: toReservationView(reservation),
  };
}
