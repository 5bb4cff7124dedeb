import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/** Retry-After of the 503 for an audit cut off by its time limit: a later try may be quieter. */
const RETRY_INCOMPLETE_AFTER_SECONDS = 30;

/**
 * An answer that leaves rules unchecked would read as "fine" for those rules, so the caller gets
 * a 503 naming them instead of a partial 200.
 */
export function auditIncomplete(timeLimitMs: number, unchecked: readonly string[]): DomainError {
  return new DomainError(
    ErrorCode.SERVICE_UNAVAILABLE,
    `The audit did not finish within its time limit (AUDIT_TIME_LIMIT_MS=${timeLimitMs}); ` +
      `unchecked: ${unchecked.join(', ')}.`,
    undefined,
    RETRY_INCOMPLETE_AFTER_SECONDS,
  );
}
