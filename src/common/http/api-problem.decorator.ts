import {
  ApiExtraModels,
  DECORATORS,
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

const PROBLEM_CODES = Symbol('problemCodes');

/** Every endpoint can meet a fault or an outage. */
const ALWAYS: ErrorCode[] = [ErrorCode.INTERNAL_ERROR, ErrorCode.SERVICE_UNAVAILABLE];

function problemResponses(codes: ErrorCode[]): MethodDecorator[] {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ALWAYS])) {
    const status = ERROR_SPECS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()].map(([status, statusCodes]) =>
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
  );
}

function addProblems(
  codes: ErrorCode[],
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor,
): void {
  const handler = descriptor.value as object;
  // Decorators apply bottom-up, so the codes of the one written higher are put first: the docs
  // list them in reading order.
  const earlier = Reflect.getMetadata(PROBLEM_CODES, handler) as ErrorCode[] | undefined;
  const all = [...new Set([...codes, ...(earlier ?? [])])];
  Reflect.defineMetadata(PROBLEM_CODES, all, handler);
  // ApiResponse merges into an existing entry of the same status (descriptions concatenated), so
  // the entries written for the earlier codes go first and are written again from the whole list.
  if (earlier) {
    const responses = {
      ...(Reflect.getMetadata(DECORATORS.API_RESPONSE, handler) as Record<string, unknown>),
    };
    for (const code of [...earlier, ...ALWAYS]) delete responses[ERROR_SPECS[code].status];
    Reflect.defineMetadata(DECORATORS.API_RESPONSE, responses, handler);
  }
  for (const response of problemResponses(all)) response(target, key, descriptor);
}

/**
 * Documents the problem+json responses of an endpoint, grouped by status, listing the codes.
 * Every endpoint also gets 500/503 because any of them can meet a fault or an outage. Several
 * (an endpoint's own, and those of composite decorators such as `@Authenticated()`) add up; on a
 * controller, the codes apply to each of its handlers.
 */
export function ApiProblems(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    ApiExtraModels(ProblemDetailsDto)(target, key, descriptor as PropertyDescriptor);
    if (key !== undefined && descriptor) {
      addProblems(codes, target, key, descriptor);
      return;
    }
    const prototype = (target as { prototype: object }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = Object.getOwnPropertyDescriptor(prototype, name);
      if (name === 'constructor' || typeof handler?.value !== 'function') continue;
      addProblems(codes, prototype, name, handler);
    }
  };
}

/** Problems any JSON-body endpoint can produce before its handler runs. */
export const BODY_PROBLEMS: ErrorCode[] = [
  ErrorCode.VALIDATION_FAILED,
  ErrorCode.MALFORMED_REQUEST,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.UNSUPPORTED_MEDIA_TYPE,
];
