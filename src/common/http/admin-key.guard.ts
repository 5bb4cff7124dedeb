import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { appConfig, AppConfig } from '../config/configuration';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-codes';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** X-Admin-Key check. Hashing first gives equal-length buffers, so the compare is constant-time. */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.expected = config.adminApiKey ? digest(config.adminApiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers['x-admin-key'];
    const presented = typeof header === 'string' ? header : undefined;
    // With no ADMIN_API_KEY configured the admin API is closed, never open.
    if (!this.expected || !presented || !timingSafeEqual(digest(presented), this.expected)) {
      throw new DomainError(ErrorCode.ADMIN_KEY_INVALID, 'Send a valid X-Admin-Key header.');
    }
    return true;
  }
}
