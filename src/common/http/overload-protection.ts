import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { OverloadConfig } from '../config/configuration';
import { ErrorCode } from '../errors/error-codes';
import { forRequest, problem } from '../errors/problem-details';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem-details.filter';
import { MetricsService, OverloadReason } from '../metrics/metrics.service';
import { queueWaitMs } from './request-pacing';

// Probes and scrapes must see the truth about an overloaded instance, so they are never shed.
const EXEMPT = /^\/(health|metrics)(\/|\?|$)/;
const LOG_EVERY_MS = 10_000;
const LAG_INTERVAL_MS = 25;
const LAG_WINDOW = 3;

const DETAILS: Record<OverloadReason, string> = {
  in_flight: 'This instance is at its concurrent request limit; retry shortly.',
  event_loop_delay: 'This instance is saturated; retry shortly.',
};

/**
 * The lag the guard acts on, from the last few timer-drift samples: their median. A saturated
 * loop is late on every tick, so the median follows it within two ticks. A single late tick is a
 * pause, not overload: a GC pause, a frozen VM or a SIGSTOP shows as one huge sample followed by
 * punctual ones, and the median never sees it (a mean would keep shedding for many ticks after
 * the process resumed with nothing queued).
 */
export function pauseSafeLag(samples: readonly number[]): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Event-loop lag by timer drift: how late a 25 ms interval fires. When the process is saturated
 * every loop iteration takes longer and this grows; it is what queued requests wait.
 * (Node's monitorEventLoopDelay, which @fastify/under-pressure samples, records no long
 * iterations and reports "no sample" as Infinity under load; see docs/adr/0007-observability.md.)
 */
class EventLoopLag {
  // Starts punctual, so the first late tick after boot counts no more than any other.
  private readonly samples: number[] = new Array<number>(LAG_WINDOW).fill(0);
  private lagMs = 0;
  private expected = performance.now() + LAG_INTERVAL_MS;
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.samples.shift();
    this.samples.push(Math.max(0, now - this.expected));
    this.expected = now + LAG_INTERVAL_MS;
    this.lagMs = pauseSafeLag(this.samples);
  }, LAG_INTERVAL_MS).unref();

  get ms(): number {
    return this.lagMs;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// The slot each counted response holds, so a long-lived stream can give its slot back early.
const slotReleases = new WeakMap<object, () => void>();
// Responses that opted out (event streams): graceful shutdown does not wait for them either.
const longLived = new WeakSet<object>();
// Requests this guard answered with 503: the access log leaves them to the guard's own summary.
const shedRequests = new WeakSet<FastifyRequest>();

/**
 * Stops counting this response as in flight: for event streams, which stay open for minutes
 * and are bounded by their own limit, not by the in-flight limit meant for request/response work.
 */
export function leaveInFlightCount(reply: FastifyReply): void {
  longLived.add(reply.raw);
  slotReleases.get(reply.raw)?.();
}

/** True for a response that left the in-flight count to stay open (an event stream). */
export function isLongLived(response: object): boolean {
  return longLived.has(response);
}

/** True when the overload guard answered this request itself (503 before any handler). */
export function wasShed(request: FastifyRequest): boolean {
  return shedRequests.has(request);
}

/**
 * Load shedding: past the limits a request is answered at once with 503 SERVICE_UNAVAILABLE and
 * Retry-After instead of queueing behind the others, so latency stays bounded and nothing hangs.
 * Two signals: requests in progress (a bound that follows from Little's law: capacity × target
 * latency) and the event-loop lag (CPU saturation, which also covers requests still waiting in
 * socket buffers, invisible to the in-flight count).
 *
 * A request takes a slot only once its body has arrived (preValidation): a client dribbling its
 * body holds a socket until the request timeout, never a slot, so a few slow sockets cannot make
 * the instance refuse everyone else. The limits are checked on arrival too (onRequest), so a shed
 * request is refused before its body is read.
 */
export function installOverloadProtection(
  app: NestFastifyApplication,
  config: OverloadConfig,
  metrics: MetricsService,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const logger = new Logger('Overload');
  const lag = new EventLoopLag();
  fastify.addHook('onClose', (_instance, done) => {
    lag.stop();
    done();
  });

  let inFlight = 0;
  let shedSinceLog = 0;
  let lastLog = 0;
  metrics.setOverloadReaders({
    inFlight: () => inFlight,
    eventLoopDelayMs: () => lag.ms,
  });

  // The lag of the loop, or, with requests paced (request-pacing.ts), this request's own wait
  // behind the others: either is the delay queued work suffers.
  const overloaded = (request: FastifyRequest): OverloadReason | undefined => {
    if (config.maxInFlight > 0 && inFlight >= config.maxInFlight) return 'in_flight';
    const maxDelay = config.maxEventLoopDelayMs;
    if (maxDelay > 0 && (lag.ms > maxDelay || queueWaitMs(request.raw) > maxDelay)) {
      return 'event_loop_delay';
    }
    return undefined;
  };

  const shed = (request: FastifyRequest, reply: FastifyReply, reason: OverloadReason) => {
    metrics.countOverloadRejection(reason);
    shedRequests.add(request);
    shedSinceLog++;
    const now = Date.now();
    // One summary line per interval: a log line per shed request would add to the overload.
    if (now - lastLog >= LOG_EVERY_MS) {
      logger.warn({ reason, inFlight, shed: shedSinceLog }, 'shedding load');
      lastLog = now;
      shedSinceLog = 0;
    }
    const body = forRequest(problem(ErrorCode.SERVICE_UNAVAILABLE, DETAILS[reason]), request);
    void reply
      .status(body.status)
      .header('Retry-After', String(config.retryAfterSeconds))
      .header('Content-Type', PROBLEM_CONTENT_TYPE)
      .send(body);
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    if (EXEMPT.test(request.url)) return done();
    const reason = overloaded(request);
    if (reason) return shed(request, reply, reason);
    done();
  });

  fastify.addHook('preValidation', (request, reply, done) => {
    if (EXEMPT.test(request.url)) return done();
    const reason = overloaded(request);
    if (reason) return shed(request, reply, reason);
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
      slotReleases.delete(reply.raw);
    };
    slotReleases.set(reply.raw, release);
    // 'close' fires exactly once per response, also when the client goes away mid-request.
    reply.raw.once('close', release);
    done();
  });
}
