import { createServer, Server } from 'node:http';
import { pacedRequestListener, RequestListener } from './request-pacing';

/**
 * Idle keep-alive connections are closed after this long. Longer than nginx's upstream
 * `keepalive_timeout` (60 s, deploy/nginx): the proxy must always be the side that closes an idle
 * connection, or it may send a request on one the instance is closing at that moment, and a POST
 * that fails that way is not retried.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * A socket silent in both directions this long is destroyed (Node's `server.timeout`, Fastify's
 * `connectionTimeout`): a client that sends a request and never reads the answer would otherwise
 * hold the socket and its buffers forever. Longer than any silence a healthy exchange has: the
 * 15 s heartbeat of event streams, and a handler waiting out the request deadline.
 */
export function connectionIdleTimeoutMs(requestTimeoutMs: number): number {
  return Math.max(60_000, 2 * requestTimeoutMs);
}

/**
 * The HTTP server the application runs on (Fastify's `serverFactory`). With a factory Fastify
 * applies none of its own timeouts, so every bound is set here:
 * - `headersTimeout` / `requestTimeout`: the whole request (headers and body) within
 *   HTTP_REQUEST_TIMEOUT_MS, else 408 and the connection closes. Node checks them only every
 *   `connectionsCheckingInterval` (30 s by default), so every second for the bound to hold;
 * - keep-alive and idle-socket timeouts, above;
 * - requests are paced (request-pacing.ts) so new connections are still accepted while the
 *   instance is saturated.
 */
export function createHttpServer(listener: RequestListener, requestTimeoutMs: number): Server {
  const server = createServer(
    {
      headersTimeout: requestTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    pacedRequestListener(listener),
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.setTimeout(connectionIdleTimeoutMs(requestTimeoutMs));
  return server;
}
