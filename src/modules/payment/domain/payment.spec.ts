import { DomainError } from '../../../common/errors/domain-error';
import { Checkout, PayableReservation, SeatDescription } from './payment';

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
