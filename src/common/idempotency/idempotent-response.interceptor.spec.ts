import { CallHandler, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { lastValueFrom, of } from 'rxjs';
import {
  IdempotentResponseInterceptor,
  stashIdempotentReplay,
} from './idempotent-response.interceptor';
import { IdempotentResult } from './idempotency.service';

function contextFor(request: object) {
  const headers: Record<string, string> = {};
  const reply = {
    header: (name: string, value: string) => {
      headers[name] = value;
      return reply;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

function handlerReturning(value: unknown) {
  const handler = { calls: 0, handle: () => (handler.calls++, of(value)) };
  return handler;
}

describe('IdempotentResponseInterceptor', () => {
  const interceptor = new IdempotentResponseInterceptor();

  it('should send the body without the replay header when the result is fresh', async () => {
    const { context, headers } = contextFor({});
    const handler = handlerReturning(new IdempotentResult(200, { balance: 5 }, false));
    await expect(
      lastValueFrom(interceptor.intercept(context, handler as CallHandler)),
    ).resolves.toEqual({ balance: 5 });
    expect(headers).toEqual({});
  });

  it('should send the stored body with Idempotent-Replayed when the result is a replay', async () => {
    const { context, headers } = contextFor({});
    const handler = handlerReturning(new IdempotentResult(200, { balance: 5 }, true));
    await expect(
      lastValueFrom(interceptor.intercept(context, handler as CallHandler)),
    ).resolves.toEqual({ balance: 5 });
    expect(headers).toEqual({ 'Idempotent-Replayed': 'true' });
  });

  it('should answer with a replay stashed by a guard without calling the handler', async () => {
    const request = {};
    stashIdempotentReplay(
      request as FastifyRequest,
      new IdempotentResult(201, { id: 7, status: 'COMPLETED' }, true),
    );
    const { context, headers } = contextFor(request);
    const handler = handlerReturning('handler ran');
    await expect(
      lastValueFrom(interceptor.intercept(context, handler as CallHandler)),
    ).resolves.toEqual({ id: 7, status: 'COMPLETED' });
    expect(handler.calls).toBe(0);
    expect(headers).toEqual({ 'Idempotent-Replayed': 'true' });
  });

  it('should pass through anything that is not an IdempotentResult', async () => {
    const { context } = contextFor({});
    await expect(
      lastValueFrom(interceptor.intercept(context, handlerReturning([1]) as CallHandler)),
    ).resolves.toEqual([1]);
  });
});
