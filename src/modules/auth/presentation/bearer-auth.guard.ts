import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Type,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { isUuid } from '../../../common/http/validation';
import { userNotFound } from '../../user/domain/user.errors';
import { AuthenticatedUser, AuthenticationService } from '../domain/authentication.service';

export type RequestWithUser = FastifyRequest & { user?: AuthenticatedUser };

export const BEARER_SCHEME = 'bearer';

/**
 * Guards every [user] endpoint: the user comes from the bearer token only, never from a body or
 * path. On success the user is on `request.user`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly authentication: AuthenticationService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    request.user = await this.authentication.authenticate(request.headers.authorization);
    return true;
  }
}

/**
 * Marks a controller or route [user]: bearer token required, and documented as such (with its
 * 401). Guards that need the user (queue token, write limit) are passed here, so they run after
 * the bearer check whatever order decorators are written in.
 */
export function Authenticated(
  ...thenGuards: Type<CanActivate>[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(BearerAuthGuard, ...thenGuards),
    ApiBearerAuth(BEARER_SCHEME),
    ApiProblems(ErrorCode.AUTH_TOKEN_INVALID),
  );
}

function userOf(context: ExecutionContext): AuthenticatedUser {
  const user = context.switchToHttp().getRequest<RequestWithUser>().user;
  // Only reachable when a route forgot @Authenticated(): a programming error, never a 401.
  if (!user) throw new Error('CurrentUser used on a route without BearerAuthGuard');
  return user;
}

/** The caller, as proven by the bearer token; only valid behind BearerAuthGuard. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser => userOf(context),
);

/**
 * The `{userId}` path segment, which must be the caller's own id or `me`. Anyone else's id
 * answers 404 USER_NOT_FOUND, exactly as an id nobody has, so the answer reveals nothing.
 */
export const OwnUserId = createParamDecorator(
  (param: string | undefined, context: ExecutionContext): string => {
    const name = param ?? 'userId';
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    const raw = (request.params as Record<string, string | undefined>)[name];
    const caller = userOf(context).id;
    if (raw === 'me') return caller;
    if (!isUuid(raw)) {
      throw DomainError.validation([{ field: name, message: `${name} must be a UUID or "me"` }]);
    }
    if (raw.toLowerCase() !== caller) {
      throw userNotFound();
    }
    return caller;
  },
);

/** Swagger for a `{userId}` path segment read with OwnUserId. */
export function ApiOwnUserIdParam(): MethodDecorator & ClassDecorator {
  return ApiParam({
    name: 'userId',
    description: 'Your own user id, or `me`. Any other id answers 404 USER_NOT_FOUND.',
    schema: { type: 'string', example: 'me' },
  });
}
