import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** The queue entry that let a request through; handlers scope every query to its user. */
export interface QueuePass {
  token: string;
  userId: string;
}

export const QUEUE_TOKEN_HEADER = 'queue-token';

export type RequestWithQueuePass = FastifyRequest & { queuePass?: QueuePass };

/**
 * Hook for endpoints marked [active token] in the contract. The queue feature fills it in:
 * it must reject a missing/unknown/expired token (401) and a WAITING one (403), and put the
 * token's user on `request.queuePass`. Until then the catalogue endpoints stay open.
 */
@Injectable()
export class ActiveQueueTokenGuard implements CanActivate {
  canActivate(_context: ExecutionContext): boolean {
    return true;
  }
}

export const ActiveQueuePass = createParamDecorator(
  (_data: unknown, context: ExecutionContext): QueuePass | undefined =>
    context.switchToHttp().getRequest<RequestWithQueuePass>().queuePass,
);
