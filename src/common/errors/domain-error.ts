import { ErrorCode } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The only error type the domain and application layers throw on purpose. It carries a stable
 * contract code; the HTTP status is decided at the edge from ERROR_SPECS, never here.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly fieldErrors?: FieldError[],
    /** Seconds a client should wait before retrying (Retry-After), where that is meaningful. */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail ?? code);
    this.name = 'DomainError';
  }

  static validation(fieldErrors: FieldError[]): DomainError {
    return new DomainError(
      ErrorCode.VALIDATION_FAILED,
      'The request has invalid fields.',
      fieldErrors,
    );
  }
}
