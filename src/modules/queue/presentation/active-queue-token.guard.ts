import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { RequestWithUser } from '../../auth/presentation/bearer-auth.guard';
import { ActivePass } from '../domain/queue-entry';
import { QueueService } from '../domain/queue.service';

/**
 * The queue entry that let a request through; handlers scope every query to its user, and to
 * its concert (an ACTIVE token grants its own concert only).
 */
export type QueuePass = ActivePass;

export const QUEUE_TOKEN_HEADER = 'queue-token';

export type RequestWithQueuePass = FastifyRequest & { queuePass?: QueuePass };

/**
 * Guards every endpoint marked [active token] in the contract, after BearerAuthGuard: a missing,
 * malformed, unknown or expired token, or one of another user → 401 QUEUE_TOKEN_INVALID, a
 * WAITING one → 403 QUEUE_TOKEN_NOT_ACTIVE. On success the token's user (the caller) and its
 * concert are on `request.queuePass`; the handler's use case compares that concert with the one
 * the request touches (403 QUEUE_TOKEN_OTHER_CONCERT). It calls the queue's exported domain service (not a facade) because other
 * modules use this guard and a module exports domain services only.
 */

@Injectable()
export class ActiveQueueTokenGuard implements CanActivate {
  constructor(private readonly queue: QueueService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithQueuePass & RequestWithUser>();
    if (!request.user) throw new Error('ActiveQueueTokenGuard needs BearerAuthGuard before it');
    request.queuePass = await this.queue.authorizeActive(
      request.headers[QUEUE_TOKEN_HEADER],
      request.user.id,
    );
    return true;
  }
}

/** The pass the guard put on the request; only valid behind ActiveQueueTokenGuard. */
export const ActiveQueuePass = createParamDecorator(
  (_data: unknown, context: ExecutionContext): QueuePass | undefined =>
    context.switchToHttp().getRequest<RequestWithQueuePass>().queuePass,
);
