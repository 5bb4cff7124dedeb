import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Type,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { Authenticated, type RequestWithUser } from '../../auth/presentation/bearer-auth.guard';
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

export interface ActiveQueueTokenOptions {
  /** The guard that checks the token and sets `request.queuePass`. */
  checkedBy?: Type<CanActivate>;
  /** Guards that run after the bearer check and before the token check (a write limit, say). */
  before?: Type<CanActivate>[];
}

/**
 * Marks a controller or route [active token]: the bearer token, then the caller's ACTIVE
 * Queue-Token (read the pass with `@ActiveQueuePass()`), with the header and the 401/403 problems
 * documented.
 */
export function RequiresActiveQueueToken({
  checkedBy = ActiveQueueTokenGuard,
  before = [],
}: ActiveQueueTokenOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Queue-Token',
      required: true,
      description: 'An ACTIVE waiting-queue token',
    }),
    ApiProblems(
      ErrorCode.QUEUE_TOKEN_INVALID,
      ErrorCode.QUEUE_TOKEN_NOT_ACTIVE,
      ErrorCode.QUEUE_TOKEN_OTHER_CONCERT,
    ),
    // Last, so its 401 AUTH_TOKEN_INVALID is listed before QUEUE_TOKEN_INVALID.
    Authenticated(...before, checkedBy),
  );
}

/**
 * Documents a route that reads any live (WAITING or ACTIVE) Queue-Token itself, with no bearer
 * token: the header and its 401.
 */
export function ReadsLiveQueueToken(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiHeader({ name: 'Queue-Token', required: true, description: 'A WAITING or ACTIVE token' }),
    ApiProblems(ErrorCode.QUEUE_TOKEN_INVALID),
  );
}
