import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { Deadline, DeadlineExceededError, runWithDeadline } from '../deadline/deadline';
import { sendProblem } from '../errors/problem-details.filter';
import { REDIS_COMMAND_TIMEOUT_MS } from '../redis/redis.module';

/**
 * How long after the deadline the last-resort answer goes out. The MySQL and Redis bounds fire at
 * the deadline itself and their 503 goes through the normal filter; this only answers requests
 * stuck in something else.
 */
const BACKSTOP_GRACE_MS = 250;

const deadlines = new WeakMap<FastifyRequest, Deadline>();

/**
 * Routes that make one Redis call and nothing else (the status poll, the hottest route of an
 * on-sale, and the event stream's opening poll). Redis's command timeout already bounds them, so
 * while the deadline is no shorter than that timeout they skip its bookkeeping: an async context,
 * a timer and two listeners per request, measured at a third of the poll's CPU (promise hooks
 * included). With a shorter deadline they get it like every other route.
 */
const REDIS_ONLY_ROUTES = new Set(['/queue/status', '/queue/events']);

/**
 * Gives every request a deadline of `deadlineMs` from its arrival, carried in async context so
 * every MySQL and Redis call on its path waits at most what is left (ADR 0013), and answers 503
 * SERVICE_UNAVAILABLE with Retry-After should the request still be unanswered shortly after.
 */
export function installRequestDeadline(fastify: FastifyInstance, deadlineMs: number): void {
  const logger = new Logger('Deadline');
  const boundedByRedis = deadlineMs >= REDIS_COMMAND_TIMEOUT_MS;

  fastify.addHook('onRequest', (request, reply, done) => {
    if (boundedByRedis && REDIS_ONLY_ROUTES.has(request.routeOptions.url ?? '')) return done();
    const deadline = new Deadline(deadlineMs);
    deadlines.set(request, deadline);
    const due = performance.now() + deadlineMs + BACKSTOP_GRACE_MS;
    let late = false;
    let backstop = setTimeout(function fire() {
      // Fired well past its time: the whole process was paused (a GC, a frozen VM) and what
      // arrived meanwhile is still unread. One more grace period lets the request finish with
      // it (a COMMIT's OK included) instead of being told 503 for something that took effect.
      if (performance.now() - due > BACKSTOP_GRACE_MS && !late) {
        late = true;
        backstop = setTimeout(fire, BACKSTOP_GRACE_MS).unref();
        return;
      }
      answerLate(request, reply, logger);
    }, deadlineMs + BACKSTOP_GRACE_MS).unref();
    // Answered in full and in time: whatever still runs no longer serves this request. Answered
    // late (a 503), the deadline stays in force, so work still running can start nothing more.
    // Not on 'close' alone: a client that hangs up does not free the work from its deadline.
    reply.raw.once('finish', () => {
      if (deadline.remainingMs() > 0) deadline.detach();
    });
    reply.raw.once('close', () => clearTimeout(backstop));
    runWithDeadline(deadline, done);
  });

  // Body parsing resumes the request from the socket's 'data' events, outside the context
  // entered above, so the context is entered again for the rest of the pipeline (guards,
  // pipes, interceptors and the handler all run inside this call).
  fastify.addHook('preHandler', (request, _reply, done) => {
    const deadline = deadlines.get(request);
    if (deadline) runWithDeadline(deadline, done);
    else done();
  });
}

function answerLate(request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  // Streams (hijacked replies) and anything already answered are left alone.
  if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
  sendProblem(new DeadlineExceededError(), request, reply, logger);
}
