import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MetricsService } from './metrics.service';

// The stable `code` of a problem+json body; a regex is enough (the filter writes it unescaped)
// and cheaper than parsing the body again on a hot error path such as 409 SEAT_UNAVAILABLE.
const PROBLEM_CODE = /"code":"([A-Z_]{1,64})"/;
const UNMATCHED_ROUTE = 'unmatched';

/** The route pattern (`/reservations/:id`), never the raw URL, which clients control. */
export function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? UNMATCHED_ROUTE;
}

/**
 * Request rate, latency per route and status, and error-code counts, recorded by Fastify hooks
 * so every response is seen, including those written by the problem+json filter and the
 * overload guard before any handler runs.
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('application/problem+json')) {
        const code = PROBLEM_CODE.exec(payload)?.[1];
        if (code) metrics.countErrorCode(code, routeLabel(request));
      }
    }
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttpRequest(
      request.method,
      routeLabel(request),
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
}
