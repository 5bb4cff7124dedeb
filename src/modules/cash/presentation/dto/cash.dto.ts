import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DomainError } from '../../../../common/errors/domain-error';
import {
  CashHistoryEntry,
  CashHistoryType,
  MAX_BALANCE,
  MAX_CHARGE_AMOUNT,
  MIN_CHARGE_AMOUNT,
} from '../../domain/cash-wallet';
import { CashHistoryPage } from '../../domain/cash.service';

export const HISTORY_DEFAULT_LIMIT = 20;
export const HISTORY_MAX_LIMIT = 100;

export class ChargeRequest {
  @ApiProperty({
    minimum: MIN_CHARGE_AMOUNT,
    maximum: MAX_CHARGE_AMOUNT,
    example: 50000,
    description: `KRW to add; the balance may not exceed ${MAX_BALANCE}`,
  })
  @IsInt()
  @Min(MIN_CHARGE_AMOUNT)
  @Max(MAX_CHARGE_AMOUNT)
  amount!: number;
}

export class CashBalanceResponse {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ example: 150000, description: 'KRW' }) balance!: number;
}

// Query strings arrive as text; only a plain decimal becomes a number, anything else stays as
// sent and fails @IsInt (no implicit conversion of "1e2", " 5" or arrays).
const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : value;

export class CashHistoryQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: HISTORY_MAX_LIMIT,
    default: HISTORY_DEFAULT_LIMIT,
    description: 'Page size',
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(HISTORY_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a valid cursor' })
  cursor?: string;
}

/**
 * Cursors are opaque to clients: base64url of "v1.<id of the last item>". Keyset pagination on the
 * ledger id keeps pages stable while new rows arrive at the top.
 */
export function encodeHistoryCursor(lastId: number): string {
  return Buffer.from(`v1.${lastId}`).toString('base64url');
}

export function decodeHistoryCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const match = /^v1\.([1-9]\d{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  const id = match ? Number(match[1]) : NaN;
  // Re-encoding must give the same text, so only cursors this server issued are accepted.
  if (!Number.isSafeInteger(id) || id > 0xffffffff || encodeHistoryCursor(id) !== cursor) {
    throw DomainError.validation([{ field: 'cursor', message: 'cursor is not a valid cursor' }]);
  }
  return id;
}

export class CashHistoryItemResponse {
  @ApiProperty({ example: 42 }) id!: number;
  @ApiProperty({ enum: ['CHARGE', 'PAYMENT', 'REFUND'] }) type!: CashHistoryType;
  @ApiProperty({ example: -110000, description: 'Signed KRW: + charge/refund, - payment' })
  amount!: number;
  @ApiProperty({ example: 40000, description: 'Balance right after this entry' })
  balanceAfter!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ example: 7, description: 'Present on PAYMENT and REFUND entries' })
  paymentId?: number;

  static from(entry: CashHistoryEntry): CashHistoryItemResponse {
    return {
      id: entry.id,
      type: entry.type,
      amount: entry.amount,
      balanceAfter: entry.balanceAfter,
      createdAt: entry.createdAt.toISOString(),
      ...(entry.paymentId !== null ? { paymentId: entry.paymentId } : {}),
    };
  }
}

export class CashHistoryResponse {
  @ApiProperty({ type: [CashHistoryItemResponse], description: 'Newest first' })
  items!: CashHistoryItemResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next (older) page; null on the last page',
  })
  nextCursor!: string | null;

  static from(page: CashHistoryPage): CashHistoryResponse {
    const last = page.entries.at(-1);
    return {
      items: page.entries.map((entry) => CashHistoryItemResponse.from(entry)),
      nextCursor: page.hasMore && last ? encodeHistoryCursor(last.id) : null,
    };
  }
}
