import { Injectable } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import { AccessTokenCodec, InvalidAccessToken } from './access-token';
import { AccountDirectory } from './account-directory';

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
    if (!match) throw tokenInvalid('Send an access token as `Authorization: Bearer <token>`.');
    let verified;
    try {
      verified = await this.tokens.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidAccessToken) throw tokenInvalid();
      throw error;
    }
    if (verified.kind === 'external') {
      return { id: await this.accounts.resolveExternal(verified.identity) };
    }
    // A validly signed token of a user that does not exist is as good as no token.
    if (!(await this.accounts.userExists(verified.userId))) throw tokenInvalid();
    return { id: verified.userId };
  }
}

function tokenInvalid(detail = 'The access token is invalid or expired.'): DomainError {
  return new DomainError(ErrorCode.AUTH_TOKEN_INVALID, detail);
}
