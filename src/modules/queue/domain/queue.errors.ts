import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';

/**
 * One answer for a malformed, unknown, retired and someone else's token, so a token guessed or
 * stolen reveals nothing.
 */
export function queueTokenInvalid(): DomainError {
  return new DomainError(
    ErrorCode.QUEUE_TOKEN_INVALID,
    'Queue-Token is missing, unknown or expired; request a new token.',
  );
}

export function queueTokenNotActive(): DomainError {
  return new DomainError(
    ErrorCode.QUEUE_TOKEN_NOT_ACTIVE,
    'This Queue-Token is still waiting; poll GET /queue/status until it is ACTIVE.',
  );
}

export function queueTokenOtherConcert(grantedConcertId: number, concertId: number): DomainError {
  return new DomainError(
    ErrorCode.QUEUE_TOKEN_OTHER_CONCERT,
    `This Queue-Token admits to concert ${grantedConcertId}, not concert ${concertId}; join that concert's waiting room.`,
  );
}

export function waitingRoomNotOpen(concertId: number, opensAt: Date | null): DomainError {
  return new DomainError(
    ErrorCode.WAITING_ROOM_NOT_OPEN,
    `The waiting room of concert ${concertId} opens at ${opensAt?.toISOString()}.`,
  );
}

export function admissionBeforeOpening(): DomainError {
  return new DomainError(
    ErrorCode.VALIDATION_FAILED,
    'admissionStartsAt must not be before opensAt.',
    [{ field: 'admissionStartsAt', message: 'must not be before opensAt' }],
  );
}

/** This instance's stream budget is spent; polling still works, so the client is sent there. */
export function noRoomForStream(retryAfterSeconds: number): DomainError {
  return new DomainError(
    ErrorCode.SERVICE_UNAVAILABLE,
    'This instance has no room for another event stream; poll GET /queue/status instead.',
    undefined,
    retryAfterSeconds,
  );
}
