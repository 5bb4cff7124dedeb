import { Injectable } from '@nestjs/common';
import { AccessTokenCodec, InvalidAccessToken } from './access-token';
import { AccountDirectory } from './account-directory';
import { accessTokenInvalid } from './auth.errors';

/** The caller a request acts for, proven by its bearer token. */
export interface AuthenticatedUser {
  id: string;
}

// RFC 6750 b64token; the scheme is case-insensitive, exactly one space, nothing after the token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_TOKEN_LENGTH = 8192;

/** Turns an Authorization header into the user it proves, or 401 AUTH_TOKEN_INVALID. */
@Injectable()
export class AuthenticationService {
  constructor(
    private readonly tokens: AccessTokenCodec,
    private readonly accounts: AccountDirectory,
  ) {}

  async authenticate(authorization: unknown): Promise<AuthenticatedUser> {
    const match =
      typeof authorization === 'string' && authorization.length <= MAX_TOKEN_LENGTH
        ? BEARER.exec(authorization)
        : null;
    if (!match)
      throw accessTokenInvalid('Send an access token as `Authorization: Bearer <token>`.');
    let verified;
    try {
      verified = await this.tokens.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidAccessToken) throw accessTokenInvalid();
      throw error;
    }
    if (verified.kind === 'external') {
      return { id: await this.accounts.resolveExternal(verified.identity) };
    }
    // A validly signed token of a user that does not exist is as good as no token.
    if (!(await this.accounts.userExists(verified.userId))) throw accessTokenInvalid();
    return { id: verified.userId };
  }
}
