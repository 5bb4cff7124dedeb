import { randomUUID } from 'node:crypto';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

// Tokens are UUID v4 (122 random bits), always issued in lower case.
const TOKEN_LENGTH = 36;
const TOKEN_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A fresh opaque token; unguessable, so knowing a user's id never yields their token. */
export function newQueueToken(): string {
  return randomUUID();
}

/**
 * Reads a `Queue-Token` header value. Anything that cannot be a token we issued (missing,
 * repeated, too long, odd characters) is rejected here, before Redis is asked, so junk headers
 * cost nothing but a length check and one anchored regex.
 */
export function parseQueueToken(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length !== TOKEN_LENGTH) throw invalidToken();
  const token = raw.toLowerCase();
  if (!TOKEN_PATTERN.test(token)) throw invalidToken();
  return token;
}

export function invalidToken(): DomainError {
  return new DomainError(
    ErrorCode.QUEUE_TOKEN_INVALID,
    'Queue-Token is missing, unknown or expired; request a new token.',
  );
}
