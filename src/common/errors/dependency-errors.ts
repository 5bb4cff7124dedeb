import { driverErrorCode } from '../database/sql';
import { DEADLINE_EXCEEDED } from '../deadline/deadline';

// Driver codes meaning "MySQL is unreachable or overloaded right now": retrying later may work.
const MYSQL_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_INTERRUPTED',
  'POOL_CLOSED',
  'POOL_ENQUEUELIMIT',
  // Our own bounds (ADR 0013): no connection in time, or the request's deadline passed.
  'POOL_ACQUIRE_TIMEOUT',
  DEADLINE_EXCEEDED,
]);

// Statements the server stopped at the session's time limit: MariaDB's ER_STATEMENT_TIMEOUT
// (mysql2 has no name for it) and MySQL's ER_QUERY_TIMEOUT.
const STATEMENT_TIMEOUT_ERRNOS = new Set([1969, 3024]);

const MYSQL_UNAVAILABLE_MESSAGES = [
  /Pool is closed/i,
  /Queue limit reached/i,
  /connection is in closed state/i,
  /Connection lost/i,
  /connect ETIMEDOUT/i,
];

// ioredis fails fast (no offline queue, bounded retries); these are its "Redis is down" errors.
const REDIS_UNAVAILABLE_MESSAGES = [
  /Stream isn't writeable/i,
  /Connection is closed/i,
  /Command timed out/i,
  /Reached the max retries per request limit/i,
  /connect ECONNREFUSED/i,
  /LOADING Redis is loading/i,
  /ioredis/i,
  // The Cluster client's: no node reachable, a slot without a master, a failover in progress.
  /Cluster isn't ready/i,
  /Cluster is disconnect/i,
  /None of startup nodes is available/i,
  /Failed to refresh slots cache/i,
  /Too many Cluster redirections/i,
  /^CLUSTERDOWN/,
  /^TRYAGAIN/,
  // A slot moving (or its master lost) mid-batch: auto-pipelining hands the redirection back.
  /^(?:MOVED|ASK) \d+ /,
];

export function isDependencyUnavailable(error: unknown): boolean {
  // Duck-typed on purpose: errors from Node's net layer may come from another realm (Jest's
  // sandbox), where `instanceof Error` is false.
  if (typeof error !== 'object' || error === null) return false;
  const code = driverErrorCode(error);
  if (code !== undefined && MYSQL_UNAVAILABLE_CODES.has(code)) return true;
  const errno = (error as { errno?: unknown }).errno;
  if (typeof errno === 'number' && STATEMENT_TIMEOUT_ERRNOS.has(errno)) return true;
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message !== 'string') return false;
  return [...MYSQL_UNAVAILABLE_MESSAGES, ...REDIS_UNAVAILABLE_MESSAGES].some((pattern) =>
    pattern.test(message),
  );
}
