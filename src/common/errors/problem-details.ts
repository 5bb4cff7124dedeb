import { HttpException, HttpStatus } from '@nestjs/common';
import { isDeadlineExceeded } from '../deadline/deadline';
import { isDependencyUnavailable } from './dependency-errors';
import { DomainError, FieldError } from './domain-error';
import { ERROR_SPECS, ErrorCode, problemType } from './error-codes';

/** RFC 9457 problem details, as promised by the contract. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface ResolvedProblem {
  problem: ProblemDetails;
  retryAfterSeconds?: number;
  /** True when the cause is unexpected and must be logged with its stack. */
  unexpected: boolean;
}

const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

/** The one builder of a problem+json body; every writer of one (filter, load shedding) uses it. */
export function problem(code: ErrorCode, detail?: string, errors?: FieldError[]): ProblemDetails {
  const spec = ERROR_SPECS[code];
  return {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    detail: detail ?? spec.title,
    code,
    ...(errors ? { errors } : {}),
  };
}

/** The problem as answered to `request`: which path it concerns and the id to quote. */
export function forRequest(
  problemDetails: ProblemDetails,
  request: { url: string; id: unknown },
): ProblemDetails {
  return { ...problemDetails, instance: request.url.split('?')[0], requestId: String(request.id) };
}

// Fastify raises these before a route handler runs (body parsing, routing).
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.MALFORMED_REQUEST,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.MALFORMED_REQUEST,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.MALFORMED_REQUEST,
  FST_ERR_BAD_STATUS_CODE: ErrorCode.INTERNAL_ERROR,
};

const FASTIFY_DETAILS: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'The request body exceeds the 64 KiB limit.',
  UNSUPPORTED_MEDIA_TYPE: 'Send the request body as application/json.',
  MALFORMED_REQUEST: 'The request body is not valid JSON.',
};

function fromHttpException(exception: HttpException): ProblemDetails {
  const status = exception.getStatus() as HttpStatus;
  const body = exception.getResponse();
  switch (status) {
    case HttpStatus.NOT_FOUND:
      return problem(ErrorCode.ROUTE_NOT_FOUND, 'No route matches this method and path.');
    case HttpStatus.METHOD_NOT_ALLOWED:
      return problem(ErrorCode.METHOD_NOT_ALLOWED);
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return problem(ErrorCode.PAYLOAD_TOO_LARGE, FASTIFY_DETAILS.PAYLOAD_TOO_LARGE);
    case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
      return problem(ErrorCode.UNSUPPORTED_MEDIA_TYPE, FASTIFY_DETAILS.UNSUPPORTED_MEDIA_TYPE);
    case HttpStatus.TOO_MANY_REQUESTS:
      return problem(ErrorCode.RATE_LIMITED);
    case HttpStatus.SERVICE_UNAVAILABLE: {
      // @nestjs/terminus reports which dependency failed; keep that as an extension member.
      const checks =
        typeof body === 'object' && body !== null && 'details' in body ? body.details : undefined;
      return {
        ...problem(
          ErrorCode.SERVICE_UNAVAILABLE,
          'A dependency (MySQL or Redis) is not answering.',
        ),
        ...(checks ? { checks } : {}),
      };
    }
    case HttpStatus.BAD_REQUEST:
      return problem(ErrorCode.MALFORMED_REQUEST, FASTIFY_DETAILS.MALFORMED_REQUEST);
    default:
      if (Number(status) >= 400 && Number(status) < 500)
        return problem(ErrorCode.MALFORMED_REQUEST);
      return problem(ErrorCode.INTERNAL_ERROR);
  }
}

export function resolveProblem(error: unknown): ResolvedProblem {
  if (error instanceof DomainError) {
    return {
      problem: problem(error.code, error.message, error.fieldErrors),
      retryAfterSeconds: error.retryAfterSeconds,
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const resolved = fromHttpException(error);
    return {
      problem: resolved,
      retryAfterSeconds:
        resolved.code === ErrorCode.SERVICE_UNAVAILABLE
          ? DEPENDENCY_RETRY_AFTER_SECONDS
          : undefined,
      unexpected: resolved.code === ErrorCode.INTERNAL_ERROR,
    };
  }
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    const code = FASTIFY_CODES[fastifyCode];
    return { problem: problem(code, FASTIFY_DETAILS[code]), unexpected: code === 'INTERNAL_ERROR' };
  }
  if (
    (error as { name?: unknown } | null)?.name === 'SyntaxError' &&
    (error as { statusCode?: number }).statusCode === 400
  ) {
    return {
      problem: problem(ErrorCode.MALFORMED_REQUEST, FASTIFY_DETAILS.MALFORMED_REQUEST),
      unexpected: false,
    };
  }
  if (isDependencyUnavailable(error)) {
    return {
      problem: problem(
        ErrorCode.SERVICE_UNAVAILABLE,
        isDeadlineExceeded(error)
          ? 'The request did not complete within its deadline; retry shortly.'
          : 'A dependency is not answering; retry shortly.',
      ),
      retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
      unexpected: false,
    };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { problem: problem(ErrorCode.MALFORMED_REQUEST), unexpected: false };
  }
  return {
    problem: problem(ErrorCode.INTERNAL_ERROR, 'An unexpected error occurred.'),
    unexpected: true,
  };
}
