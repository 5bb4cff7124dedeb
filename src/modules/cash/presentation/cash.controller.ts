import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { IdempotencyKey } from '../../../common/idempotency/idempotency-key';
import { IdempotentEndpoint } from '../../../common/idempotency/idempotent-endpoint.decorator';
import { IdempotentResult } from '../../../common/idempotency/idempotency.service';
import {
  ApiOwnUserIdParam,
  Authenticated,
  OwnUserId,
} from '../../auth/presentation/bearer-auth.guard';
import { UserWriteLimitGuard } from '../../auth/presentation/user-write-limit.guard';
import { CashBalanceView, CashFacade } from '../application/cash.facade';
import {
  CashBalanceResponse,
  CashHistoryQuery,
  CashHistoryResponse,
  ChargeRequest,
  decodeHistoryCursor,
  HISTORY_DEFAULT_LIMIT,
} from './dto/cash.dto';

@ApiTags('cash')
@Controller('users/:userId/cash')
@Authenticated()
@ApiOwnUserIdParam()
export class CashController {
  constructor(private readonly cash: CashFacade) {}

  @Get()
  @ApiOperation({ summary: 'Your prepaid balance (no queue token needed)' })
  @ApiOkResponse({ type: CashBalanceResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  balance(@OwnUserId() userId: string): Promise<CashBalanceResponse> {
    return this.cash.getBalance(userId);
  }

  @Post('charges')
  @HttpCode(200)
  @UseGuards(UserWriteLimitGuard)
  @ApiOperation({
    summary: 'Charge the balance (optionally idempotent)',
    description:
      'Adds `amount` KRW. With an `Idempotency-Key`, a repeat with the same body returns the ' +
      'first response (with `Idempotent-Replayed: true`) without charging again.',
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.USER_NOT_FOUND,
    ErrorCode.RATE_LIMITED,
    ErrorCode.BALANCE_LIMIT_EXCEEDED,
  )
  @IdempotentEndpoint({
    status: 200,
    type: CashBalanceResponse,
    description: 'The balance after the charge',
  })
  charge(
    @OwnUserId() userId: string,
    @Body() body: ChargeRequest,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<IdempotentResult<CashBalanceView>> {
    return this.cash.charge(userId, body.amount, idempotencyKey);
  }

  @Get('history')
  @ApiOperation({ summary: 'Ledger entries, newest first, cursor-paginated' })
  @ApiOkResponse({ type: CashHistoryResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  async history(
    @OwnUserId() userId: string,
    @Query() query: CashHistoryQuery,
  ): Promise<CashHistoryResponse> {
    const page = await this.cash.history(userId, {
      beforeId: decodeHistoryCursor(query.cursor),
      limit: query.limit ?? HISTORY_DEFAULT_LIMIT,
    });
    return CashHistoryResponse.from(page);
  }
}
