import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, Max, Min } from 'class-validator';
import { PaymentView, toPaymentView } from '../../application/payment.view';
import {
  MAX_RESERVATIONS_PER_PAYMENT,
  Payment,
  PaymentItem,
  PaymentStatus,
} from '../../domain/payment';

const MAX_ID = 2_147_483_647;

export class PayRequest {
  @ApiProperty({
    type: [Number],
    example: [42, 43],
    minItems: 1,
    maxItems: MAX_RESERVATIONS_PER_PAYMENT,
    uniqueItems: true,
    description: `1..${MAX_RESERVATIONS_PER_PAYMENT} distinct ids of the caller's HELD reservations`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_RESERVATIONS_PER_PAYMENT)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_ID, { each: true })
  reservationIds!: number[];
}

export class PaymentResponse implements PaymentView {
  @ApiProperty({ example: 7 }) id!: number;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ type: [Number], example: [42, 43], description: 'Ascending' })
  reservationIds!: number[];
  @ApiProperty({ example: 110000, description: 'KRW debited: the sum of the held prices' })
  amount!: number;
  @ApiProperty({ enum: ['COMPLETED', 'REFUNDED'], example: 'COMPLETED' }) status!: PaymentStatus;
  @ApiProperty({ format: 'date-time' }) paidAt!: string;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    example: null,
    description: 'When it was refunded; null unless `status` is REFUNDED',
  })
  refundedAt!: string | null;
}

export class PaymentItemResponse {
  @ApiProperty({ example: 42 }) reservationId!: number;
  @ApiProperty({ example: 1 }) concertId!: number;
  @ApiProperty({ example: 'Spring Live', description: 'As it was at payment time' })
  concertTitle!: string;
  @ApiProperty({ example: 3 }) scheduleId!: number;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ example: 117 }) seatId!: number;
  @ApiProperty({ example: 17 }) seatNumber!: number;
  @ApiProperty({ example: 55000, description: 'KRW' }) price!: number;

  static from(item: PaymentItem): PaymentItemResponse {
    return {
      reservationId: item.reservationId,
      concertId: item.concertId,
      concertTitle: item.concertTitle,
      scheduleId: item.scheduleId,
      startsAt: item.startsAt.toISOString(),
      seatId: item.seatId,
      seatNumber: item.seatNumber,
      price: item.price,
    };
  }
}

/** A payment as POST /payments/{paymentId}/refund answers it (Swagger's example). */
export const REFUNDED_PAYMENT_EXAMPLE: PaymentView = {
  id: 7,
  userId: '3f9a6b2e-5c1d-4e8f-9a7b-6c5d4e3f2a1b',
  reservationIds: [42, 43],
  amount: 110_000,
  status: 'REFUNDED',
  paidAt: '2030-04-28T18:03:11.502Z',
  refundedAt: '2030-04-30T09:12:44.120Z',
};

/** A payment in the user's list: the POST /payments body plus the receipt lines. */
export class PaymentWithItemsResponse extends PaymentResponse {
  @ApiProperty({ type: [PaymentItemResponse], description: 'What was bought, by reservation id' })
  items!: PaymentItemResponse[];

  static from(payment: Payment): PaymentWithItemsResponse {
    return {
      ...toPaymentView(payment),
      items: payment.items.map((item) => PaymentItemResponse.from(item)),
    };
  }
}
