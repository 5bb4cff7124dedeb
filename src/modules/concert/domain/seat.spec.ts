import { Seat } from './seat';

const now = new Date('2026-12-01T10:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

function seat(
  status: 'AVAILABLE' | 'HELD' | 'SOLD',
  holdExpiresAt: Date | null = null,
  reservationId: number | null = null,
) {
  return new Seat(7, 3, 12, 50_000, status, reservationId, holdExpiresAt);
}

describe('Seat', () => {
  it('should be holdable when it is AVAILABLE', () => {
    expect(seat('AVAILABLE').statusAt(now)).toBe('AVAILABLE');
    expect(seat('AVAILABLE').isHoldableAt(now)).toBe(true);
    expect(seat('AVAILABLE').expiredReservationAt(now)).toBeNull();
  });

  it('should read HELD and not be holdable while the hold is live', () => {
    const held = seat('HELD', at(1), 41);
    expect(held.statusAt(now)).toBe('HELD');
    expect(held.isHoldableAt(now)).toBe(false);
    expect(held.expiredReservationAt(now)).toBeNull();
  });

  it('should read AVAILABLE the instant its hold expires, naming the expired reservation', () => {
    const expired = seat('HELD', at(0), 41);
    expect(expired.holdExpiredAt(now)).toBe(true);
    expect(expired.statusAt(now)).toBe('AVAILABLE');
    expect(expired.isHoldableAt(now)).toBe(true);
    expect(expired.expiredReservationAt(now)).toBe(41);
  });

  it('should stay SOLD for ever when it has been sold', () => {
    const sold = seat('SOLD', null, 41);
    expect(sold.statusAt(at(10 * 365 * 86_400_000))).toBe('SOLD');
    expect(sold.isHoldableAt(now)).toBe(false);
    expect(sold.expiredReservationAt(now)).toBeNull();
  });
});
