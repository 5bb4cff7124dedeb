import type { Logger } from '@nestjs/common';
import { createConnection, type PoolConnection } from 'mysql2';
import type { Socket } from 'node:net';
import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';

/** How long killing a connection's server thread may take before it is given up. */
const KILL_TIMEOUT_MS = 2_000;
/**
 * Kills under way at once. When MySQL stalls, every request in flight passes its deadline together;
 * a connection per kill would then add hundreds of connections to a server already in trouble.
 * The ones skipped still have the reset and the server-side limits.
 */
const MAX_KILLS_IN_FLIGHT = 4;
let killsInFlight = 0;

export interface SessionLimits {
  /** Longest any one statement may run on the server. */
  statementTimeLimitMs: number;
  /** innodb_lock_wait_timeout, unless a transaction asks for its own. */
  lockWaitSeconds: number;
}

/**
 * The per-session bounds the server enforces by itself, so a statement stops even when the
 * client can no longer reach the server to kill it. MariaDB's max_statement_time covers every
 * statement (seconds); MySQL 8 has none such, and its max_execution_time covers SELECTs only
 * (milliseconds): writes there are bounded by the lock wait, and by the client's deadline.
 */
export function sessionLimitsStatement(
  flavour: 'mariadb' | 'mysql',
  limits: SessionLimits,
): string {
  const ms = Math.max(1, Math.floor(limits.statementTimeLimitMs));
  const statementLimit =
    flavour === 'mariadb'
      ? `max_statement_time = ${(ms / 1000).toFixed(3)}`
      : `max_execution_time = ${ms}`;
  return `SET SESSION innodb_lock_wait_timeout = ${limits.lockWaitSeconds}, ${statementLimit}`;
}

/**
 * Closes the connection's socket with a TCP reset. A plain close (FIN) lets the server read what
 * is still queued before it sees the end, a COMMIT included; a reset makes both kernels drop it.
 * A Unix socket has no reset, and no network in between to hold a packet: it is just closed.
 */
export function resetSocket(connection: PoolConnection): void {
  const stream = (connection as unknown as { stream?: Socket }).stream;
  if (!stream || stream.destroyed) return;
  try {
    stream.resetAndDestroy();
  } catch {
    stream.destroy();
  }
}

/**
 * Kills the server thread of a connection the client gave up on, from a fresh connection outside
 * the pool (which may be exhausted). KILL ends whatever the thread runs or waits for (a lock
 * wait too) and rolls its transaction back, so its row locks go at once instead of when the
 * server notices the dead socket. Best effort and bounded: when the server cannot be reached the
 * server-side limits and the reset are what is left.
 */
export function killConnection(
  options: MysqlDataSourceOptions,
  threadId: number | null | undefined,
  logger: Logger,
): void {
  if (threadId === null || threadId === undefined || killsInFlight >= MAX_KILLS_IN_FLIGHT) return;
  killsInFlight++;
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    killsInFlight--;
    killer.destroy();
  };
  const killer = createConnection({
    host: options.host,
    port: options.port,
    socketPath: options.socketPath,
    user: options.username,
    password: options.password,
    connectTimeout: KILL_TIMEOUT_MS,
  });
  killer.on('error', () => undefined);
  const giveUp = setTimeout(settle, KILL_TIMEOUT_MS);
  giveUp.unref();
  killer.query('KILL ?', [threadId], (error) => {
    clearTimeout(giveUp);
    settle();
    // 1094 ER_NO_SUCH_THREAD: the server already dropped it, which is the goal.
    if (error && error.errno !== 1094) {
      logger.warn(`could not kill MySQL thread ${threadId}: ${error.code ?? error.message}`);
    }
  });
}
