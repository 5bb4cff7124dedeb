import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import { IdempotencyKey } from '../../../common/idempotency/idempotency-key';
import { IdempotentEndpoint } from '../../../common/idempotency/idempotent-endpoint.decorator';
import { IdempotentResult } from '../../../common/idempotency/idempotency.service';
import type { AuthenticatedUser } from '../../auth/domain/authentication.service';
import {
  ApiOwnUserIdParam,
  Authenticated,
  CurrentUser,
  OwnUserId,
} from '../../auth/presentation/bearer-auth.guard';
import { UserWriteLimitGuard } from '../../auth/presentation/user-write-limit.guard';
import {
  ActiveQueuePass,
  type QueuePass,
  RequiresActiveQueueToken,
} from '../../queue/presentation/active-queue-token.guard';
import { PaymentFacade } from '../application/payment.facade';
import { PaymentView } from '../application/payment.view';
import {
  PaymentResponse,
  PaymentWithItemsResponse,
  PayRequest,
  REFUNDED_PAYMENT_EXAMPLE,
} from './dto/payment.dto';
import { PaymentQueueTokenGuard } from './payment-queue-token.guard';

const PAYMENT_ID_PARAM = {
  name: 'paymentId',
  description: 'A payment id: canonical decimal digits (`01`, `1e3`, `+1` → 400)',
  schema: { type: 'integer', minimum: 1, maximum: 2_147_483_647, example: 7 },
};

@ApiTags('payments')
@Controller()
export class PaymentController {
  constructor(private readonly payments: PaymentFacade) {}

  @Post('payments')
  @HttpCode(201)
  @RequiresActiveQueueToken({ checkedBy: PaymentQueueTokenGuard, before: [UserWriteLimitGuard] })
  @ApiOperation({
    summary: "Pay the caller's held reservations from the cash balance",
    description:
      'One transaction: every reservation is the caller’s, HELD and unexpired; the balance is ' +
      'debited; the reservations become CONFIRMED and the seats SOLD. Nothing changes on any ' +
      'error. Afterwards the Queue-Token is expired. With an `Idempotency-Key`, a repeat with the ' +
      'same body returns the first 201 (`Idempotent-Replayed: true`) without paying again — even ' +
      'with the Queue-Token this payment expired.',
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.RATE_LIMITED,
    ErrorCode.RESERVATION_NOT_FOUND,
    ErrorCode.RESERVATION_NOT_HELD,
    ErrorCode.RESERVATION_EXPIRED,
    ErrorCode.INSUFFICIENT_BALANCE,
  )
  @IdempotentEndpoint({ status: 201, type: PaymentResponse })
  pay(
    @ActiveQueuePass() pass: QueuePass,
    @Body() body: PayRequest,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<IdempotentResult<PaymentView>> {
    return this.payments.pay(pass, body.reservationIds, idempotencyKey);
  }

  @Get('users/:userId/payments')
  @Authenticated()
  @ApiOwnUserIdParam()
  @ApiOperation({
    summary: 'Your payments with their receipt lines, newest first (no queue token)',
  })
  @ApiOkResponse({ type: [PaymentWithItemsResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  async list(@OwnUserId() userId: string): Promise<PaymentWithItemsResponse[]> {
    const payments = await this.payments.listPayments(userId);
    return payments.map((payment) => PaymentWithItemsResponse.from(payment));
  }

  @Get('payments/:paymentId')
  @Authenticated()
  @ApiParam(PAYMENT_ID_PARAM)
  @ApiOperation({
    summary: 'One of your payments with its receipt lines, in any status (no queue token)',
  })
  @ApiOkResponse({ type: PaymentWithItemsResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.PAYMENT_NOT_FOUND)
  async get(
    @CurrentUser() user: AuthenticatedUser,
    @Param('paymentId', ParseIdPipe) paymentId: number,
  ): Promise<PaymentWithItemsResponse> {
    return PaymentWithItemsResponse.from(await this.payments.getPayment(user.id, paymentId));
  }

  @Post('payments/:paymentId/refund')
  @HttpCode(200)
  @Authenticated(UserWriteLimitGuard)
  @ApiParam(PAYMENT_ID_PARAM)
  @ApiOperation({
    summary: 'Refund one of your payments to your cash balance (no queue token, no body)',
    description:
      'One transaction: the payment COMPLETED → REFUNDED, its amount credited to the balance ' +
      '(a REFUND history row with the payment id; not capped by the balance limit), its ' +
      'reservations REFUNDED and their seats AVAILABLE to anyone again. Allowed until ' +
      '`PAYMENT_REFUND_CUTOFF_HOURS` (default 24) before the earliest start among its schedules. ' +
      'Nothing changes on any error. With an `Idempotency-Key`, a repeat for the same payment ' +
      'returns the first 200 (`Idempotent-Replayed: true`) without crediting again; the same key ' +
      'for another payment is 422.',
  })
  @ApiProblems(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.RATE_LIMITED,
    ErrorCode.PAYMENT_NOT_FOUND,
    ErrorCode.PAYMENT_ALREADY_REFUNDED,
    ErrorCode.REFUND_WINDOW_CLOSED,
  )
  @IdempotentEndpoint({
    status: 200,
    type: PaymentResponse,
    description: 'The payment, now `REFUNDED` with `refundedAt` (the database clock)',
    example: REFUNDED_PAYMENT_EXAMPLE,
  })
  refund(
    @CurrentUser() user: AuthenticatedUser,
    @Param('paymentId', ParseIdPipe) paymentId: number,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<IdempotentResult<PaymentView>> {
    return this.payments.refund(user.id, paymentId, idempotencyKey);
  }
}
