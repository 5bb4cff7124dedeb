import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/**
 * One answer for a bad signature, an expired token and an unknown user, so a forger learns
 * nothing; only a missing or malformed header gets its own detail (it reveals nothing either).
 */
export function accessTokenInvalid(
  detail = 'The access token is invalid or expired.',
): DomainError {
  return new DomainError(ErrorCode.AUTH_TOKEN_INVALID, detail);
}
