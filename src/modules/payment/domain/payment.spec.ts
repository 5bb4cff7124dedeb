import { DomainError } from '../../../common/errors/domain-error';
import { Checkout, PayableReservation, Payment, RefundPolicy, SeatDescription } from './payment';
import { codeOf } from '../../../../test/support/assertions';

const USER = '8a0c2a4e-0d7c-4e36-9d7e-2f0f3c1b9a01';
const OTHER = '1b7d9f3a-6c42-4f0e-8a55-3e2d1c0b9f02';

function reservation(id: number, overrides: Partial<PayableReservation> = {}): PayableReservation {
  return {
    id,
    userId: USER,
    scheduleId: 3,
    seatId: 100 + id,
    seatNumber: id,
    price: 50_000,
    ...overrides,
  };
}

function seat(seatId: number, title = 'Spring Live'): SeatDescription {
  return {
    seatId,
    concertId: 1,
    concertTitle: title,
    startsAt: new Date('2030-05-01T10:00:00.000Z'),
  };
}

describe('Checkout', () => {
  it('should total the prices the holds were taken at when several reservations are paid', () => {
    const checkout = Checkout.of(USER, [
      reservation(2, { price: 55_000 }),
      reservation(1, { price: 40_000 }),
      reservation(4, { price: 90_000 }),
    ]);

    expect(checkout.amount).toBe(185_000);
    // Id order: the same order the rows were locked in, and the receipt's order.
    expect(checkout.reservations.map((r) => r.id)).toEqual([1, 2, 4]);
    expect(checkout.seatIds).toEqual([101, 102, 104]);
  });

  it('should accept one and up to four reservations and refuse none or five', () => {
    expect(Checkout.of(USER, [reservation(1)]).amount).toBe(50_000);
    expect(
      Checkout.of(
        USER,
        [1, 2, 3, 4].map((id) => reservation(id)),
      ).amount,
    ).toBe(200_000);
    expect(() => Checkout.of(USER, [])).toThrow('1..4');
    expect(() =>
      Checkout.of(
        USER,
        [1, 2, 3, 4, 5].map((id) => reservation(id)),
      ),
    ).toThrow('1..4');
  });

  it('should refuse the same reservation twice when the list repeats it', () => {
    expect(() => Checkout.of(USER, [reservation(1), reservation(1)])).toThrow('twice');
  });

  it("should answer RESERVATION_NOT_FOUND, not reveal it, when a reservation is someone else's", () => {
    const attempt = () => Checkout.of(USER, [reservation(1), reservation(2, { userId: OTHER })]);

    expect(attempt).toThrow(DomainError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'RESERVATION_NOT_FOUND' }));
  });

  it('should refuse a total that is not a positive integer when prices are broken', () => {
    expect(() => Checkout.of(USER, [reservation(1, { price: 0 })])).toThrow('positive');
  });

  it('should copy concert, schedule time, seat number and price into the receipt when it is written', () => {
    const checkout = Checkout.of(USER, [reservation(2, { price: 70_000 }), reservation(1)]);

    const items = checkout.receipt([seat(102, 'Autumn Live'), seat(101)]);

    expect(items).toEqual([
      {
        reservationId: 1,
        concertId: 1,
        concertTitle: 'Spring Live',
        scheduleId: 3,
        startsAt: new Date('2030-05-01T10:00:00.000Z'),
        seatId: 101,
        seatNumber: 1,
        price: 50_000,
      },
      {
        reservationId: 2,
        concertId: 1,
        concertTitle: 'Autumn Live',
        scheduleId: 3,
        startsAt: new Date('2030-05-01T10:00:00.000Z'),
        seatId: 102,
        seatNumber: 2,
        price: 70_000,
      },
    ]);
  });

  it('should fail the receipt when the catalogue does not describe a paid seat', () => {
    const checkout = Checkout.of(USER, [reservation(1), reservation(2)]);

    expect(() => checkout.receipt([seat(101)])).toThrow('seat 102');
  });
});

describe('RefundPolicy', () => {
  const HOUR = 3_600_000;
  const show = new Date('2030-05-01T10:00:00.000Z');
  const hoursBefore = (hours: number, ms = 0) => new Date(show.getTime() - hours * HOUR + ms);
  const policy = new RefundPolicy(24);

  function payment(overrides: Partial<Payment> = {}): Payment {
    return {
      id: 7,
      userId: USER,
      amount: 100_000,
      status: 'COMPLETED',
      paidAt: new Date('2030-04-01T12:00:00.000Z'),
      refundedAt: null,
      items: [],
      ...overrides,
    };
  }

  it('should refund a completed payment before the cutoff, stamped with the clock it was judged at', () => {
    const now = hoursBefore(25);

    expect(policy.refund(payment(), [show], now)).toMatchObject({
      id: 7,
      amount: 100_000,
      status: 'REFUNDED',
      refundedAt: now,
    });
  });

  it('should still refund at the deadline instant and close one millisecond later', () => {
    expect(policy.deadline([show])).toEqual(hoursBefore(24));
    expect(policy.refund(payment(), [show], hoursBefore(24)).status).toBe('REFUNDED');
    expect(codeOf(() => policy.refund(payment(), [show], hoursBefore(24, 1)))).toBe(
      'REFUND_WINDOW_CLOSED',
    );
  });

  it('should judge the window by the earliest of its schedules when a payment spans several', () => {
    const later = new Date(show.getTime() + 72 * HOUR);

    expect(policy.deadline([later, show])).toEqual(hoursBefore(24));
    expect(codeOf(() => policy.refund(payment(), [later, show], hoursBefore(23)))).toBe(
      'REFUND_WINDOW_CLOSED',
    );
  });

  it('should refuse once the show has started or passed, and with a zero cutoff allow until the start', () => {
    expect(codeOf(() => policy.refund(payment(), [show], hoursBefore(-1)))).toBe(
      'REFUND_WINDOW_CLOSED',
    );
    const untilStart = new RefundPolicy(0);
    expect(untilStart.refund(payment(), [show], show).status).toBe('REFUNDED');
    expect(codeOf(() => untilStart.refund(payment(), [show], hoursBefore(0, 1)))).toBe(
      'REFUND_WINDOW_CLOSED',
    );
  });

  it('should answer PAYMENT_ALREADY_REFUNDED before looking at the window', () => {
    const refunded = payment({ status: 'REFUNDED', refundedAt: hoursBefore(30) });

    expect(codeOf(() => policy.refund(refunded, [show], hoursBefore(48)))).toBe(
      'PAYMENT_ALREADY_REFUNDED',
    );
    expect(codeOf(() => policy.refund(refunded, [show], hoursBefore(1)))).toBe(
      'PAYMENT_ALREADY_REFUNDED',
    );
  });

  it('should treat a window without schedules or a broken cutoff as a programming error', () => {
    expect(() => policy.deadline([])).toThrow('at least one schedule');
    expect(() => new RefundPolicy(-1)).toThrow(RangeError);
    expect(() => new RefundPolicy(1.5)).toThrow(RangeError);
  });
});
