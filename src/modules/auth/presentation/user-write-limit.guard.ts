import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { rateLimitConfig, RateLimitConfig } from '../../../common/config/configuration';
import { RateLimiter, RateWindow } from '../../../common/rate-limit/rate-limiter';
import { RequestWithUser } from './bearer-auth.guard';

/**
 * RATE_LIMIT_USER_WRITES_PER_MINUTE across all instances: one person cannot hammer the writing
 * endpoints (token issue, charges, holds, cancels, payments, refunds) however many instances
 * or connections they spread the requests over. Runs after BearerAuthGuard:
 * `@Authenticated(UserWriteLimitGuard)`, or on a method of an `@Authenticated()` controller.
 */
@Injectable()
export class UserWriteLimitGuard implements CanActivate {
  private readonly window: RateWindow;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(rateLimitConfig.KEY) config: RateLimitConfig,
  ) {
    this.window = { name: 'writes', limit: config.userWritesPerMinute, windowSeconds: 60 };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.window.limit === 0) return true;
    const user = context.switchToHttp().getRequest<RequestWithUser>().user;
    if (!user) throw new Error('UserWriteLimitGuard needs BearerAuthGuard before it');
    await this.limiter.consume(this.window, user.id);
    return true;
  }
}
