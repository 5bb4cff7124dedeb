import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiResponseOptions } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-codes';
import { ApiProblems } from '../http/api-problem.decorator';
import { IdempotentResponseInterceptor } from './idempotent-response.interceptor';

/**
 * Marks a write that takes an optional Idempotency-Key (read it with `@IdempotencyKey()`): a
 * repeat is answered with the stored response by IdempotentResponseInterceptor. Documents the
 * header, the `Idempotent-Replayed` header on `success`, and the two key problems. Written below
 * the endpoint's own `@ApiProblems(...)`, its codes are listed after the endpoint's.
 */
export function IdempotentEndpoint(
  success: ApiResponseOptions & { status: number },
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseInterceptors(IdempotentResponseInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: '1..64 visible ASCII characters, remembered per user for 24 h',
    }),
    ApiResponse({
      ...success,
      headers: {
        'Idempotent-Replayed': {
          description: 'Present (`true`) when this is the stored response of an earlier request',
          schema: { type: 'string', enum: ['true'] },
        },
      },
    }),
    ApiProblems(ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS),
  );
}
