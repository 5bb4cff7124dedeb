import { DomainError } from '../../../common/errors/domain-error';

export const DEFAULT_SEAT_COUNT = 50;
export const DEFAULT_SEAT_PRICE = 50_000;
export const MAX_SEAT_COUNT = 500;

export interface SchedulePlanInput {
  startsAt: Date;
  bookingOpensAt: Date;
  bookingClosesAt: Date;
  seatCount?: number;
  price?: number;
  prices?: number[];
}

/**
 * A validated request to put a show on sale: its booking window and one price per seat number.
 * Seat numbers are 1..N in the order of `seatPrices`.
 */
export class SchedulePlan {
  private constructor(
    readonly startsAt: Date,
    readonly bookingOpensAt: Date,
    readonly bookingClosesAt: Date,
    readonly seatPrices: readonly number[],
  ) {}

  static from(input: SchedulePlanInput): SchedulePlan {
    const problems: { field: string; message: string }[] = [];
    if (input.bookingOpensAt.getTime() >= input.bookingClosesAt.getTime()) {
      problems.push({
        field: 'bookingClosesAt',
        message: 'bookingClosesAt must be after bookingOpensAt',
      });
    }
    if (input.bookingClosesAt.getTime() > input.startsAt.getTime()) {
      problems.push({
        field: 'bookingClosesAt',
        message: 'booking must close no later than startsAt',
      });
    }
    if (input.price !== undefined && input.prices !== undefined) {
      problems.push({ field: 'prices', message: 'send either price or prices, not both' });
    }
    const seatCount = input.seatCount ?? input.prices?.length ?? DEFAULT_SEAT_COUNT;
    if (input.prices !== undefined && input.prices.length !== seatCount) {
      problems.push({
        field: 'prices',
        message: `prices must have exactly seatCount (${seatCount}) entries`,
      });
    }
    if (problems.length > 0) throw DomainError.validation(problems);

    const seatPrices =
      input.prices ?? Array.from({ length: seatCount }, () => input.price ?? DEFAULT_SEAT_PRICE);
    return new SchedulePlan(
      input.startsAt,
      input.bookingOpensAt,
      input.bookingClosesAt,
      seatPrices,
    );
  }

  get seatCount(): number {
    return this.seatPrices.length;
  }
}
