import { Seat, SeatHold, SeatReceiptLine } from './seat';
import { SeatForHold, SeatRepository } from './seat.repository';
import { SeatService } from './seat.service';
import { codeOf } from '../../../../test/support/assertions';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const OPEN = {
  bookingOpensAt: new Date(NOW.getTime() - 3_600_000),
  bookingClosesAt: new Date(NOW.getTime() + 3_600_000),
};

/** A SeatRepository holding one looked-up seat and counting the writes asked of it. */
class FakeSeatRepository extends SeatRepository {
  found: SeatForHold | null = null;
  holdSucceeds = true;
  sellCount = 0;
  releaseSoldCount = 0;

  findForHold(): Promise<SeatForHold | null> {
    return Promise.resolve(this.found);
  }
  holdIfFree(): Promise<boolean> {
    return Promise.resolve(this.holdSucceeds);
  }
  pinReservation(): Promise<void> {
    return Promise.resolve();
  }
  releaseHeldBy(holds: readonly SeatHold[]): Promise<number> {
    return Promise.resolve(holds.length);
  }
  sellHeldBy(): Promise<number> {
    return Promise.resolve(this.sellCount);
  }
  releaseSoldBy(): Promise<number> {
    return Promise.resolve(this.releaseSoldCount);
  }
  findReceiptLines(): Promise<SeatReceiptLine[]> {
    return Promise.resolve([]);
  }
}

describe('SeatService', () => {
  let repository: FakeSeatRepository;
  let service: SeatService;
  const seatRow = (
    status: 'AVAILABLE' | 'HELD' | 'SOLD',
    holdExpiresAt: Date | null,
    reservationId: number | null,
  ) => new Seat(7, 3, 12, 50_000, status, reservationId, holdExpiresAt);

  beforeEach(() => {
    repository = new FakeSeatRepository();
    service = new SeatService(repository);
  });

  it('should answer SEAT_NOT_FOUND when the seat is not in that schedule', async () => {
    repository.found = null;
    await expect(codeOf(service.getHoldable(3, 7))).resolves.toBe('SEAT_NOT_FOUND');
  });

  it.each([
    [
      'before it opens',
      { bookingOpensAt: new Date(NOW.getTime() + 1), bookingClosesAt: OPEN.bookingClosesAt },
    ],
    ['the instant it closes', { bookingOpensAt: OPEN.bookingOpensAt, bookingClosesAt: NOW }],
  ])('should answer BOOKING_CLOSED %s, even for a free seat', async (_case, booking) => {
    repository.found = { seat: seatRow('AVAILABLE', null, null), booking, now: NOW };
    await expect(codeOf(service.getHoldable(3, 7))).resolves.toBe('BOOKING_CLOSED');
  });

  it.each([
    ['held', seatRow('HELD', new Date(NOW.getTime() + 1), 41)],
    ['sold', seatRow('SOLD', null, 41)],
  ])('should answer SEAT_UNAVAILABLE when the seat is %s', async (_case, seat) => {
    repository.found = { seat, booking: OPEN, now: NOW };
    await expect(codeOf(service.getHoldable(3, 7))).resolves.toBe('SEAT_UNAVAILABLE');
  });

  it('should offer a seat whose hold expired, naming the reservation to retire', async () => {
    repository.found = { seat: seatRow('HELD', NOW, 41), booking: OPEN, now: NOW };
    await expect(service.getHoldable(3, 7)).resolves.toEqual({
      id: 7,
      scheduleId: 3,
      number: 12,
      price: 50_000,
      expiredReservationId: 41,
    });
  });

  it('should answer SEAT_UNAVAILABLE when the conditional hold loses the race', async () => {
    repository.holdSucceeds = false;
    const seat = { id: 7, scheduleId: 3, number: 12, price: 50_000, expiredReservationId: null };
    await expect(codeOf(service.hold(seat, NOW))).resolves.toBe('SEAT_UNAVAILABLE');
  });

  it('should abort a sale when not every paid seat was still held by its reservation', async () => {
    repository.sellCount = 1;
    await expect(
      service.sell([
        { seatId: 1, reservationId: 10 },
        { seatId: 2, reservationId: 11 },
      ]),
    ).rejects.toThrow(/Sold 1 of 2/);
  });

  it('should abort a refund when not every refunded seat was still sold to its reservation', async () => {
    const holds = [
      { seatId: 1, reservationId: 10 },
      { seatId: 2, reservationId: 11 },
    ];
    repository.releaseSoldCount = 1;
    await expect(service.releaseSold(holds)).rejects.toThrow(/Released 1 of 2/);
    repository.releaseSoldCount = 2;
    await expect(service.releaseSold(holds)).resolves.toBeUndefined();
  });
});
