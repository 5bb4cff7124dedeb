import { DomainError } from '../../../common/errors/domain-error';
import { DEFAULT_SEAT_COUNT, DEFAULT_SEAT_PRICE, SchedulePlan } from './schedule-plan';

const window = {
  bookingOpensAt: new Date('2026-12-01T00:00:00Z'),
  bookingClosesAt: new Date('2026-12-20T00:00:00Z'),
  startsAt: new Date('2026-12-24T10:00:00Z'),
};

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).fieldErrors?.map((e) => e.field) ?? [];
  }
  throw new Error('expected a validation error');
}

describe('SchedulePlan', () => {
  it('should default to 50 seats at 50,000 KRW when nothing is given', () => {
    const plan = SchedulePlan.from(window);
    expect(plan.seatCount).toBe(DEFAULT_SEAT_COUNT);
    expect(new Set(plan.seatPrices)).toEqual(new Set([DEFAULT_SEAT_PRICE]));
  });

  it('should price every seat alike when one price is given', () => {
    expect(SchedulePlan.from({ ...window, seatCount: 3, price: 77_000 }).seatPrices).toEqual([
      77_000, 77_000, 77_000,
    ]);
  });

  it('should take the seat count from prices when only prices are given', () => {
    expect(SchedulePlan.from({ ...window, prices: [1, 2] }).seatPrices).toEqual([1, 2]);
  });

  it('should reject prices whose length differs from seatCount', () => {
    expect(fieldsOf(() => SchedulePlan.from({ ...window, seatCount: 3, prices: [1, 2] }))).toEqual([
      'prices',
    ]);
  });

  it('should reject price and prices together', () => {
    expect(fieldsOf(() => SchedulePlan.from({ ...window, price: 1, prices: [1] }))).toContain(
      'prices',
    );
  });

  it('should reject a window that closes before it opens', () => {
    expect(
      fieldsOf(() =>
        SchedulePlan.from({
          ...window,
          bookingOpensAt: window.bookingClosesAt,
          bookingClosesAt: window.bookingOpensAt,
        }),
      ),
    ).toContain('bookingClosesAt');
  });

  it('should reject booking that closes after the show starts', () => {
    expect(
      fieldsOf(() =>
        SchedulePlan.from({ ...window, bookingClosesAt: new Date('2026-12-25T00:00:00Z') }),
      ),
    ).toEqual(['bookingClosesAt']);
  });
});
