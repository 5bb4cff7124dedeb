import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '../errors/domain-error';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN } from './idempotency.constants';

/**
 * The Idempotency-Key header, or undefined when absent. A present but malformed key is a
 * validation failure (400), raised before any work starts, so it is never remembered.
 */
export function readIdempotencyKey(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw DomainError.validation([
      {
        field: 'Idempotency-Key',
        message: 'Idempotency-Key must be 1 to 64 visible ASCII characters',
      },
    ]);
  }
  return value;
}

/** Controller parameter: `@IdempotencyKey() key: string | undefined`. */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined =>
    readIdempotencyKey(context.switchToHttp().getRequest<FastifyRequest>().headers),
);
