import { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import pino, { Level, Logger } from 'pino';
import { wasShed } from '../http/overload-protection';

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

const PINO_LEVEL: Record<NestLevel, Level> = {
  log: 'info',
  error: 'error',
  warn: 'warn',
  debug: 'debug',
  verbose: 'trace',
  fatal: 'fatal',
};

/**
 * Never logged, whatever a caller passes: the statement and bound values of a failed query (they
 * carry emails, password hashes and ids), credentials, and headers holding tokens or keys.
 */
export const REDACTED_PATHS = [
  'err.sql',
  'err.query',
  'err.parameters',
  'err.driverError.sql',
  'err.driverError.parameters',
  'err.cause.sql',
  '*.password',
  '*.passwordHash',
  '*.accessToken',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-admin-key"]',
  '*.headers["queue-token"]',
];

export function createPino(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * Nest's logger interface on top of pino: one JSON line per entry. Nest calls
 * `error(message, stack?, context?)`; an object message is merged into the line, so callers can
 * log structured fields (`{ requestId, ... }`).
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: NestLevel, message: unknown, rest: unknown[]): void {
    const pinoLevel = PINO_LEVEL[level];
    if (!this.pino.isLevelEnabled(pinoLevel)) return;
    const strings = rest.filter((part): part is string => typeof part === 'string');
    // Nest appends the logger's context as the last string argument.
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const detail = strings.length > 1 ? strings[0] : undefined;
    const fields: Record<string, unknown> = { context };
    if (message !== null && typeof message === 'object' && !(message instanceof Error)) {
      Object.assign(fields, message);
      this.pino[pinoLevel]({ ...fields, ...(detail ? { stack: detail } : {}) }, detail ?? '');
      return;
    }
    if (message instanceof Error) fields.err = message;
    if (detail) fields.stack = detail;
    this.pino[pinoLevel](fields, message instanceof Error ? message.message : String(message));
  }
}

/**
 * Access log without per-request middleware (a Nest/middie middleware here cost a measured ~25%
 * of throughput): server errors always, everything else only when the level allows it.
 */
export function installAccessLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // A shed request is an answer the overload guard chose, summarised in its own warning every
    // 10 s; an error line for each would write megabytes a second exactly when CPU is short.
    const level: Level =
      status >= 500 && !wasShed(request) ? 'error' : status >= 400 ? 'debug' : 'trace';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          requestId: request.id,
          method: request.method,
          url: request.url,
          status,
          responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    }
    done();
  });
}
