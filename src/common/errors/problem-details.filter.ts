import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDependencyUnavailable } from './dependency-errors';
import { ErrorCode } from './error-codes';
import { forRequest, resolveProblem } from './problem-details';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Writes a problem+json reply; shared by the Nest filter and Fastify's own error handler. */
export function sendProblem(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): void {
  const { problem, retryAfterSeconds, unexpected } = resolveProblem(error);
  // The client hung up (mid-body, or while we worked): there is no one to answer, and the error
  // this surfaces (`aborted`, ECONNRESET) is the client's socket, not an outage of MySQL or Redis,
  // so it is neither logged nor counted as one. Bugs are still logged, whoever is listening.
  if (!unexpected && clientGone(request, reply)) {
    logger.debug?.({ requestId: request.id, url: request.url }, 'client closed the request');
    return;
  }
  const body = forRequest(problem, request);
  if (unexpected) {
    logger.error(
      { requestId: request.id, method: request.method, url: request.url, err: error },
      error instanceof Error ? error.stack : String(error),
    );
  } else if (problem.status === 503) {
    logger.warn(
      {
        requestId: request.id,
        url: request.url,
        cause: isDependencyUnavailable(error) ? (error as Error).message : undefined,
      },
      'dependency unavailable',
    );
  }
  if (reply.sent) return;
  if (retryAfterSeconds !== undefined) void reply.header('Retry-After', String(retryAfterSeconds));
  // RFC 6750: a 401 on a bearer-protected resource names the scheme the client must use.
  if (problem.code === ErrorCode.AUTH_TOKEN_INVALID) {
    void reply.header('WWW-Authenticate', 'Bearer realm="concert-booking"');
  }
  void reply.status(problem.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(body);
}

function clientGone(request: FastifyRequest, reply: FastifyReply): boolean {
  if (reply.sent || reply.raw.headersSent) return false;
  return request.raw.socket?.destroyed === true;
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      this.logger,
    );
  }
}
