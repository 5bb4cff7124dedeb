import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDate,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Concert, ScheduleSummary, SeatStatus, SeatView } from '../../domain/concert';
import { MAX_SEAT_COUNT } from '../../domain/schedule-plan';
import { InDateRange, toDate } from '../../../../common/http/iso-date';
import { toNfc, VISIBLE_TEXT } from '../../../../common/http/text';

const MAX_PRICE = 10_000_000;
export class ConcertResponse {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'IU 2026 World Tour' }) title!: string;
  @ApiProperty({ nullable: true, type: String, example: 'IU' }) performer!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(concert: Concert): ConcertResponse {
    return {
      id: concert.id,
      title: concert.title,
      performer: concert.performer,
      createdAt: concert.createdAt.toISOString(),
    };
  }
}

export class ScheduleResponse {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 1 }) concertId!: number;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ format: 'date-time' }) bookingOpensAt!: string;
  @ApiProperty({ format: 'date-time' }) bookingClosesAt!: string;
  @ApiProperty({ example: 50 }) totalSeats!: number;
  @ApiProperty({ example: 42, description: 'Seats neither sold nor under a live hold' })
  availableSeats!: number;

  static from(schedule: ScheduleSummary): ScheduleResponse {
    return {
      id: schedule.id,
      concertId: schedule.concertId,
      startsAt: schedule.startsAt.toISOString(),
      bookingOpensAt: schedule.bookingOpensAt.toISOString(),
      bookingClosesAt: schedule.bookingClosesAt.toISOString(),
      totalSeats: schedule.totalSeats,
      availableSeats: schedule.availableSeats,
    };
  }
}

export class SeatResponse {
  @ApiProperty({ example: 17 }) id!: number;
  @ApiProperty({ example: 1, description: 'Seat number, 1..totalSeats' }) number!: number;
  @ApiProperty({ example: 50000, description: 'KRW' }) price!: number;
  @ApiProperty({ enum: ['AVAILABLE', 'HELD', 'SOLD'] }) status!: SeatStatus;

  static from(seat: SeatView): SeatResponse {
    return { id: seat.id, number: seat.number, price: seat.price, status: seat.status };
  }
}

export class CreateConcertRequest {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'IU 2026 World Tour' })
  @Transform(toNfc)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/\S/, { message: 'title must not be blank' })
  @Matches(VISIBLE_TEXT, { message: 'title may contain only visible characters and spaces' })
  title!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'IU' })
  @Transform(toNfc)
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  @Matches(VISIBLE_TEXT, { message: 'performer may contain only visible characters and spaces' })
  performer?: string;
}

export class CreateScheduleRequest {
  @ApiProperty({ format: 'date-time', example: '2026-12-24T10:00:00.000Z' })
  @Transform(toDate)
  @IsDate({ message: 'startsAt must be an ISO-8601 date-time with a zone' })
  @InDateRange('startsAt')
  startsAt!: Date;

  @ApiProperty({ format: 'date-time', example: '2026-11-20T03:00:00.000Z' })
  @Transform(toDate)
  @IsDate({ message: 'bookingOpensAt must be an ISO-8601 date-time with a zone' })
  @InDateRange('bookingOpensAt')
  bookingOpensAt!: Date;

  @ApiProperty({ format: 'date-time', example: '2026-12-24T09:00:00.000Z' })
  @Transform(toDate)
  @IsDate({ message: 'bookingClosesAt must be an ISO-8601 date-time with a zone' })
  @InDateRange('bookingClosesAt')
  bookingClosesAt!: Date;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SEAT_COUNT, default: 50 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SEAT_COUNT)
  seatCount?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PRICE,
    default: 50000,
    description: 'One price for every seat (KRW)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PRICE)
  price?: number;

  @ApiPropertyOptional({
    type: [Number],
    minItems: 1,
    maxItems: MAX_SEAT_COUNT,
    description: 'Price per seat number (index 0 is seat 1); length must equal seatCount',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SEAT_COUNT)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_PRICE, { each: true })
  prices?: number[];
}

export class ScheduleWithSeatsResponse extends ScheduleResponse {
  @ApiProperty({ type: [SeatResponse] }) seats!: SeatResponse[];
}
