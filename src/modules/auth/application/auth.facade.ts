import { Inject, Injectable } from '@nestjs/common';
import { authConfig, AuthConfig } from '../../../common/config/configuration';
import { RateLimiter, RateWindow } from '../../../common/rate-limit/rate-limiter';
import { emailKey } from '../../user/domain/user';
import { UserService } from '../../user/domain/user.service';
import { AccessTokenCodec, IssuedAccessToken } from '../domain/access-token';

@Injectable()
export class AuthFacade {
  private readonly logins: RateWindow;

  constructor(
    private readonly users: UserService,
    private readonly tokens: AccessTokenCodec,
    private readonly limiter: RateLimiter,
    @Inject(authConfig.KEY) config: AuthConfig,
  ) {
    this.logins = {
      name: 'logins',
      limit: config.loginMaxFailures,
      windowSeconds: config.loginWindowSeconds,
    };
  }

  /**
   * The login. Every attempt on an email counts before its password is checked, and a success
   * clears the count: so at most AUTH_LOGIN_MAX_FAILURES guesses per window get checked, even
   * when an attacker sends them all at once, and a user who finally remembers is not locked out.
   */
  async login(email: string, password: string): Promise<IssuedAccessToken> {
    const subject = emailKey(email);
    await this.limiter.consume(this.logins, subject);
    const user = await this.users.authenticate(email, password);
    await this.limiter.reset(this.logins, subject);
    return this.tokens.issue(user.id);
  }
}
