import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ERROR_SPECS, ErrorCode } from '../errors/error-codes';

export class FieldErrorDto {
  @ApiProperty({ example: 'amount' }) field!: string;
  @ApiProperty({ example: 'amount must not be greater than 1000000' }) message!: string;
}

export class ProblemDetailsDto {
  @ApiProperty({ example: 'https://concert-booking.dev/problems/seat-unavailable' }) type!: string;
  @ApiProperty({ example: 'Seat is not available' }) title!: string;
  @ApiProperty({ example: 409 }) status!: number;
  @ApiProperty({ example: 'Seat 12 is held or sold.' }) detail!: string;
  @ApiProperty({ enum: Object.values(ErrorCode), example: 'SEAT_UNAVAILABLE' }) code!: string;
  @ApiPropertyOptional({ example: '/reservations' }) instance?: string;
  @ApiPropertyOptional({ example: 'b4b1f6d0-...' }) requestId?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}

/**
 * Documents the problem+json responses of an endpoint, grouped by status, listing the codes.
 * Every endpoint also gets 500/503 because any of them can meet a fault or an outage.
 */
export function ApiProblems(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const all = [
    ...new Set<ErrorCode>([...codes, ErrorCode.INTERNAL_ERROR, ErrorCode.SERVICE_UNAVAILABLE]),
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of all) {
    const status = ERROR_SPECS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...[...byStatus.entries()].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        description: statusCodes
          .map((code) => `\`${code}\`: ${ERROR_SPECS[code].title}`)
          .join('<br>'),
        content: {
          'application/problem+json': {
            schema: {
              allOf: [
                { $ref: getSchemaPath(ProblemDetailsDto) },
                {
                  properties: {
                    status: { example: status },
                    code: { enum: statusCodes, example: statusCodes[0] },
                  },
                },
              ],
            },
          },
        },
      }),
    ),
  );
}

/** Problems any JSON-body endpoint can produce before its handler runs. */
export const BODY_PROBLEMS: ErrorCode[] = [
  ErrorCode.VALIDATION_FAILED,
  ErrorCode.MALFORMED_REQUEST,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.UNSUPPORTED_MEDIA_TYPE,
];
