import { HoldLimit, holdExpiresAt, Reservation, ReservationStatus } from './reservation';
import { codeOf } from '../../../../test/support/assertions';

const now = new Date('2026-12-01T10:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

function reservation(status: ReservationStatus, expiresAt: Date = at(60_000)): Reservation {
  return new Reservation(5, 'user-1', 3, 7, 12, 50_000, status, expiresAt, null);
}

describe('Reservation', () => {
  describe('statusAt', () => {
    it('should read HELD while the hold is live', () => {
      expect(reservation('HELD', at(1)).statusAt(now)).toBe('HELD');
    });

    it('should read EXPIRED from the instant the hold expires, before any job rewrote it', () => {
      expect(reservation('HELD', at(0)).holdExpiredAt(now)).toBe(true);
      expect(reservation('HELD', at(0)).statusAt(now)).toBe('EXPIRED');
      expect(reservation('HELD', at(0)).seenAt(now).status).toBe('EXPIRED');
    });

    it.each<ReservationStatus>(['CONFIRMED', 'CANCELLED', 'EXPIRED', 'REFUNDED'])(
      'should keep the final status %s whatever the time',
      (status) => {
        expect(reservation(status, at(-60_000)).statusAt(now)).toBe(status);
        expect(reservation(status, at(60_000)).statusAt(now)).toBe(status);
      },
    );
  });

  describe('cancel', () => {
    it('should turn a live hold CANCELLED', () => {
      const cancelled = reservation('HELD').cancel(now);
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.id).toBe(5);
    });

    it.each<[ReservationStatus, Date]>([
      ['CONFIRMED', at(60_000)],
      ['CANCELLED', at(60_000)],
      ['EXPIRED', at(-1)],
      ['HELD', at(-1)],
    ])('should refuse with RESERVATION_NOT_HELD when it is %s (expiring %s)', (status, expiry) => {
      expect(codeOf(() => reservation(status, expiry).cancel(now))).toBe('RESERVATION_NOT_HELD');
    });
  });

  describe('payment', () => {
    it('should confirm a live hold with its payment', () => {
      const confirmed = reservation('HELD').confirm(99, now);
      expect(confirmed.status).toBe('CONFIRMED');
      expect(confirmed.paymentId).toBe(99);
    });

    it('should answer RESERVATION_EXPIRED (410) for an expired hold, stored as HELD or EXPIRED', () => {
      expect(codeOf(() => reservation('HELD', at(0)).assertPayableAt(now))).toBe(
        'RESERVATION_EXPIRED',
      );
      expect(codeOf(() => reservation('EXPIRED', at(-5)).confirm(1, now))).toBe(
        'RESERVATION_EXPIRED',
      );
    });

    it.each<ReservationStatus>(['CONFIRMED', 'CANCELLED'])(
      'should answer RESERVATION_NOT_HELD (409) when it is already %s',
      (status) => {
        expect(codeOf(() => reservation(status).assertPayableAt(now))).toBe('RESERVATION_NOT_HELD');
      },
    );
  });

  describe('refund', () => {
    const paid = (paymentId: number | null, status: ReservationStatus = 'CONFIRMED') =>
      new Reservation(5, 'user-1', 3, 7, 12, 50_000, status, at(-60_000), paymentId);

    it('should turn a CONFIRMED reservation of the payment REFUNDED, keeping the payment id', () => {
      const refunded = paid(99).refund(99);
      expect(refunded.status).toBe('REFUNDED');
      expect(refunded.paymentId).toBe(99);
      expect(refunded.statusAt(now)).toBe('REFUNDED');
    });

    it.each<[ReservationStatus, number | null]>([
      ['CONFIRMED', 98],
      ['REFUNDED', 99],
      ['HELD', null],
      ['CANCELLED', null],
      ['EXPIRED', null],
    ])(
      'should refuse a %s reservation of payment %p as a broken invariant',
      (status, paymentId) => {
        expect(() => paid(paymentId, status).refund(99)).toThrow(/only a CONFIRMED reservation/);
      },
    );
  });
});

describe('HoldLimit', () => {
  const seats = (liveHolds: number, seatsInSchedule: number) => ({ liveHolds, seatsInSchedule });

  it('should allow another hold while the user is under both limits', () => {
    expect(() => new HoldLimit(4, 4).assertRoomForOneMore(seats(3, 3))).not.toThrow();
  });

  it('should refuse with HOLD_LIMIT_REACHED when the user is at the hold limit', () => {
    expect(codeOf(() => new HoldLimit(4, 9).assertRoomForOneMore(seats(4, 0)))).toBe(
      'HOLD_LIMIT_REACHED',
    );
    expect(codeOf(() => new HoldLimit(1, 9).assertRoomForOneMore(seats(1, 1)))).toBe(
      'HOLD_LIMIT_REACHED',
    );
  });

  it('should refuse with PURCHASE_LIMIT_REACHED when the user has the most seats the schedule allows', () => {
    expect(codeOf(() => new HoldLimit(4, 2).assertRoomForOneMore(seats(0, 2)))).toBe(
      'PURCHASE_LIMIT_REACHED',
    );
  });
});

describe('holdExpiresAt', () => {
  it('should end a hold RESERVATION_HOLD_SECONDS after the clock it starts on, to the millisecond', () => {
    expect(holdExpiresAt(new Date('2026-12-01T10:00:00.123Z'), 300)).toEqual(
      new Date('2026-12-01T10:05:00.123Z'),
    );
  });
});
