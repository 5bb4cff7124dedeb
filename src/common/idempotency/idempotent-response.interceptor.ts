import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, Observable, of } from 'rxjs';
import { IDEMPOTENT_REPLAYED_HEADER } from './idempotency.constants';
import { IdempotentResult } from './idempotency.service';

const STASHED_REPLAY = Symbol('idempotentReplay');

type RequestWithReplay = FastifyRequest & { [STASHED_REPLAY]?: IdempotentResult<unknown> };

/**
 * For a guard that found a stored response (IdempotencyService.findReplay) before it would reject
 * the request, e.g. because the payment expired the queue token: the guard stashes the replay and
 * lets the request through; IdempotentResponseInterceptor then answers with it and the handler
 * (and its body pipes) never run.
 */
export function stashIdempotentReplay(
  request: FastifyRequest,
  replay: IdempotentResult<unknown>,
): void {
  (request as RequestWithReplay)[STASHED_REPLAY] = replay;
}

/**
 * Lets a handler return an IdempotentResult: the client gets its body, plus
 * `Idempotent-Replayed: true` when it is a replay. The status is the endpoint's @HttpCode, which
 * is the successStatus the result was stored with (only successes are remembered).
 */
@Injectable()
export class IdempotentResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const unwrap = (result: unknown): unknown => {
      if (!(result instanceof IdempotentResult)) return result;
      if (result.replayed) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return result.body as unknown;
    };
    const stashed = http.getRequest<RequestWithReplay>()[STASHED_REPLAY];
    if (stashed) return of(unwrap(stashed));
    return next.handle().pipe(map(unwrap));
  }
}
