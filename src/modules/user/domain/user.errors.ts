import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/** One answer for "no such user" and "someone else's user", so neither can be told apart. */
export function userNotFound(): DomainError {
  return new DomainError(ErrorCode.USER_NOT_FOUND, 'No such user.');
}

/** One answer for an unknown email and a wrong password, so neither can be told apart. */
export function credentialsInvalid(): DomainError {
  return new DomainError(ErrorCode.CREDENTIALS_INVALID, 'The email or the password is wrong.');
}

export function emailTaken(): DomainError {
  return new DomainError(ErrorCode.EMAIL_TAKEN, 'An account with this email already exists.');
}
