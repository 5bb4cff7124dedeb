import { createPool, type Pool, type PoolOptions } from 'mysql2';
import { performance } from 'node:perf_hooks';
import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';

/** How often each instance compares every replica with the primary (ADR 0014). */
export const REPLICA_CHECK_INTERVAL_MS = 500;
/** One check's statements, together; past it the replica counts as unreachable. */
export const REPLICA_CHECK_TIMEOUT_MS = 1_000;
/**
 * Longest wait for a replica connection. A replica is a shortcut, never the only way: past this
 * (its pool busy, or a host that does not answer the connect) the read goes to the primary.
 */
export const REPLICA_ACQUIRE_TIMEOUT_MS = 1_000;
/**
 * Longest a history read waits for a replica to reach the primary's position. A healthy replica
 * is there in milliseconds; one that is not within this is behind for a reason, and the primary
 * answers at once rather than add the lag bound to the request.
 */
export const REPLICA_POSITION_WAIT_MS = 250;
/** Primary positions a replica has yet to apply that are remembered (two a second at most). */
const MAX_PENDING = 256;

export type Flavour = 'mariadb' | 'mysql';

/** The primary's committed position: every transaction it has written to its binlog. */
export function primaryPositionSql(flavour: Flavour): string {
  return flavour === 'mariadb'
    ? 'SELECT @@GLOBAL.gtid_binlog_pos AS pos'
    : 'SELECT @@GLOBAL.gtid_executed AS pos';
}

/** 1 when the replica has applied every transaction of the position `?` (without waiting). */
export function appliedExpression(flavour: Flavour): string {
  return flavour === 'mariadb'
    ? '(MASTER_GTID_WAIT(?, 0) = 0)'
    : 'GTID_SUBSET(?, @@GLOBAL.gtid_executed)';
}

/** 1 once the replica has applied `?`, waiting at most `?` seconds for it. */
export function waitForPositionSql(flavour: Flavour): string {
  return flavour === 'mariadb'
    ? 'SELECT MASTER_GTID_WAIT(?, ?) = 0 AS applied'
    : 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) = 0 AS applied';
}

/**
 * The replica's pool: the primary's connection options (user, password, database, time zone,
 * charset, number handling, so rows come back exactly as from the primary) at another address.
 */
export function replicaPoolOptions(
  options: MysqlDataSourceOptions,
  host: string,
  port: number,
): PoolOptions {
  const extra = (options.extra ?? {}) as PoolOptions;
  return {
    charset: options.charset,
    timezone: options.timezone,
    connectTimeout: options.connectTimeout,
    supportBigNumbers: options.supportBigNumbers ?? true,
    bigNumberStrings: options.bigNumberStrings ?? true,
    stringifyObjects: true,
    host,
    port,
    user: options.username,
    password: options.password,
    database: options.database,
    connectionLimit: options.poolSize,
    ...extra,
  };
}

interface Observation {
  /** performance.now() when the primary was asked. */
  at: number;
  position: string;
}

/**
 * One replica and what this instance knows of it. Lag is measured against the primary, not read
 * from SHOW SLAVE STATUS: each check records the primary's position, and the replica is as far
 * behind as the oldest recorded position it has not applied yet. That holds when its SQL thread
 * is stopped (Seconds_Behind_Master is NULL then) and when it is merely slow, and it never counts
 * an idle replica as stale.
 */
export class Replica {
  readonly pool: Pool;
  /** Where a connection given up on is killed from: this replica, not the primary. */
  readonly killOptions: MysqlDataSourceOptions;
  /** Reads running on it now, for the least-loaded choice. */
  inFlight = 0;
  /** Answered the latest check (or has not failed a read since). */
  reachable = false;
  /** The newest primary position it is known to have applied. */
  appliedPosition: string | undefined;
  private readonly pending: Observation[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    primaryOptions: MysqlDataSourceOptions,
  ) {
    this.pool = createPool(replicaPoolOptions(primaryOptions, host, port));
    // An idle pooled connection whose server dies emits 'error': unheard, it would end the process.
    this.pool.on('connection', (connection) => connection.on('error', () => undefined));
    this.killOptions = { ...primaryOptions, host, port, socketPath: undefined };
  }

  get name(): string {
    return `${this.host}:${this.port}`;
  }

  /** How far behind the primary it is now, in ms (it grows between checks too). */
  lagMs(now = performance.now()): number {
    return this.pending.length === 0 ? 0 : now - this.pending[0].at;
  }

  usable(maxLagMs: number, now = performance.now()): boolean {
    return this.reachable && this.lagMs(now) <= maxLagMs;
  }

  /** The primary was at `position` at `at`; the replica has to apply it. */
  observe(at: number, position: string): void {
    if (position === this.appliedPosition) return;
    const last = this.pending[this.pending.length - 1];
    if (last?.position === position) return;
    this.pending.push({ at, position });
    // Long out anyway; the oldest entries are the ones that say how long.
    if (this.pending.length > MAX_PENDING) this.pending.splice(1, 1);
  }

  /** The positions, oldest first, whose application the next check asks about. */
  pendingPositions(): string[] {
    return this.pending.map((entry) => entry.position);
  }

  /**
   * The check found pending position `newest` (an index of pendingPositions(), -1 for none)
   * applied. Positions only grow (one primary, strict GTID order), so all before it are too.
   */
  settle(newest: number): void {
    if (newest < 0) return;
    this.appliedPosition = this.pending[newest].position;
    this.pending.splice(0, newest + 1);
  }

  markUnreachable(): void {
    this.reachable = false;
  }

  status(maxLagMs: number): ReplicaStatus {
    const lagMs = Math.round(this.lagMs());
    return { name: this.name, reachable: this.reachable, lagMs, usable: this.usable(maxLagMs) };
  }
}

export interface ReplicaStatus {
  name: string;
  reachable: boolean;
  lagMs: number;
  usable: boolean;
}

/** The replicas, chosen least-loaded first and round robin among equals. */
export class ReplicaSet {
  private next = 0;

  constructor(
    readonly replicas: readonly Replica[],
    readonly maxLagMs: number,
  ) {}

  pick(): Replica | undefined {
    const now = performance.now();
    let best: Replica | undefined;
    const count = this.replicas.length;
    for (let offset = 0; offset < count; offset++) {
      const candidate = this.replicas[(this.next + offset) % count];
      if (!candidate.usable(this.maxLagMs, now)) continue;
      if (!best || candidate.inFlight < best.inFlight) best = candidate;
    }
    this.next = (this.next + 1) % count;
    return best;
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((replica) => replica.status(this.maxLagMs));
  }

  async end(): Promise<void> {
    await Promise.all(
      this.replicas.map(
        (replica) => new Promise<void>((resolve) => replica.pool.end(() => resolve())),
      ),
    );
  }
}
