import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseUuidPipe } from '../../../common/http/validation';
import { IdempotencyKey } from '../../../common/idempotency/idempotency-key';
import { IdempotentResponseInterceptor } from '../../../common/idempotency/idempotent-response.interceptor';
import { IdempotentResult } from '../../../common/idempotency/idempotency.service';
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
export class CashController {
  constructor(private readonly cash: CashFacade) {}

  @Get()
  @ApiOperation({ summary: "A user's prepaid balance (no queue token needed)" })
  @ApiOkResponse({ type: CashBalanceResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  balance(@Param('userId', ParseUuidPipe) userId: string): Promise<CashBalanceResponse> {
    return this.cash.getBalance(userId);
  }

  @Post('charges')
  @HttpCode(200)
  @UseInterceptors(IdempotentResponseInterceptor)
  @ApiOperation({
    summary: 'Charge the balance (optionally idempotent)',
    description:
      'Adds `amount` KRW. With an `Idempotency-Key`, a repeat with the same body returns the ' +
      'first response (with `Idempotent-Replayed: true`) without charging again.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '1..64 visible ASCII characters, remembered per user for 24 h',
  })
  @ApiOkResponse({
    type: CashBalanceResponse,
    description: 'The balance after the charge',
    headers: {
      'Idempotent-Replayed': {
        description: 'Present (`true`) when this is the stored response of an earlier request',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.USER_NOT_FOUND,
    ErrorCode.BALANCE_LIMIT_EXCEEDED,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
  )
  charge(
    @Param('userId', ParseUuidPipe) userId: string,
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
    @Param('userId', ParseUuidPipe) userId: string,
    @Query() query: CashHistoryQuery,
  ): Promise<CashHistoryResponse> {
    const page = await this.cash.history(userId, {
      beforeId: decodeHistoryCursor(query.cursor),
      limit: query.limit ?? HISTORY_DEFAULT_LIMIT,
    });
    return CashHistoryResponse.from(page);
  }
}
