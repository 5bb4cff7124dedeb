import { Body, Controller, Get, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { IdempotencyKey } from '../../../common/idempotency/idempotency-key';
import { IdempotentResponseInterceptor } from '../../../common/idempotency/idempotent-response.interceptor';
import { IdempotentResult } from '../../../common/idempotency/idempotency.service';
import {
  ApiOwnUserIdParam,
  Authenticated,
  OwnUserId,
} from '../../auth/presentation/bearer-auth.guard';
import { UserWriteLimitGuard } from '../../auth/presentation/user-write-limit.guard';
import { ActiveQueuePass, type QueuePass } from '../../queue/presentation/active-queue-token.guard';
import { PaymentFacade } from '../application/payment.facade';
import { PaymentView } from '../application/payment.view';
import { PaymentResponse, PaymentWithItemsResponse, PayRequest } from './dto/payment.dto';
import { PaymentQueueTokenGuard } from './payment-queue-token.guard';

@ApiTags('payments')
@Controller()
export class PaymentController {
  constructor(private readonly payments: PaymentFacade) {}

  @Post('payments')
  @HttpCode(201)
  @Authenticated(UserWriteLimitGuard, PaymentQueueTokenGuard)
  @UseInterceptors(IdempotentResponseInterceptor)
  @ApiOperation({
    summary: "Pay the caller's held reservations from the cash balance",
    description:
      'One transaction: every reservation is the caller’s, HELD and unexpired; the balance is ' +
      'debited; the reservations become CONFIRMED and the seats SOLD. Nothing changes on any ' +
      'error. Afterwards the Queue-Token is expired. With an `Idempotency-Key`, a repeat with the ' +
      'same body returns the first 201 (`Idempotent-Replayed: true`) without paying again — even ' +
      'with the Queue-Token this payment expired.',
  })
  @ApiHeader({ name: 'Queue-Token', required: true, description: 'An ACTIVE waiting-queue token' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '1..64 visible ASCII characters, remembered per user for 24 h',
  })
  @ApiCreatedResponse({
    type: PaymentResponse,
    headers: {
      'Idempotent-Replayed': {
        description: 'Present (`true`) when this is the stored response of an earlier request',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.AUTH_TOKEN_INVALID,
    ErrorCode.QUEUE_TOKEN_INVALID,
    ErrorCode.QUEUE_TOKEN_NOT_ACTIVE,
    ErrorCode.RATE_LIMITED,
    ErrorCode.RESERVATION_NOT_FOUND,
    ErrorCode.RESERVATION_NOT_HELD,
    ErrorCode.RESERVATION_EXPIRED,
    ErrorCode.INSUFFICIENT_BALANCE,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
  )
  pay(
    @ActiveQueuePass() pass: QueuePass,
    @Body() body: PayRequest,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<IdempotentResult<PaymentView>> {
    return this.payments.pay(pass.userId, pass.token, body.reservationIds, idempotencyKey);
  }

  @Get('users/:userId/payments')
  @Authenticated()
  @ApiOwnUserIdParam()
  @ApiOperation({
    summary: 'Your payments with their receipt lines, newest first (no queue token)',
  })
  @ApiOkResponse({ type: [PaymentWithItemsResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.AUTH_TOKEN_INVALID, ErrorCode.USER_NOT_FOUND)
  async list(@OwnUserId() userId: string): Promise<PaymentWithItemsResponse[]> {
    const payments = await this.payments.listPayments(userId);
    return payments.map((payment) => PaymentWithItemsResponse.from(payment));
  }
}
