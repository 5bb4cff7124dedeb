import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { toReservationView } from '../../application/reservation.view';
import { Reservation, ReservationStatus } from '../../domain/reservation';

const MAX_ID = 2_147_483_647;

export class CreateReservationRequest {
  @ApiProperty({ example: 3, minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  scheduleId!: number;

  @ApiProperty({ example: 117, minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  seatId!: number;
}

export class ReservationResponse {
  @ApiProperty({ example: 42 }) id!: number;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ example: 3 }) scheduleId!: number;
  @ApiProperty({ example: 117 }) seatId!: number;
  @ApiProperty({ example: 17 }) seatNumber!: number;
  @ApiProperty({ example: 50000, description: 'KRW, the seat price when the hold was taken' })
  price!: number;
  @ApiProperty({
    enum: ['HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED'],
    description:
      'A hold past expiresAt reads EXPIRED at once, before any job has run; REFUNDED once its ' +
      'payment was refunded',
  })
  status!: ReservationStatus;
  @ApiProperty({ format: 'date-time', description: 'When the hold ends unless paid' })
  expiresAt!: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    example: null,
    description: 'Set once CONFIRMED (kept when REFUNDED)',
  })
  paymentId!: number | null;

  /** The same view the reservation events carry as `data`. */
  static from(reservation: Reservation): ReservationResponse {
    return toReservationView(reservation);
  }
}
