import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Pool, PoolConnection } from 'mysql2';
import { DataSource } from 'typeorm';
import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { databaseConfig, DatabaseConfig } from '../config/configuration';
import { currentDeadline, Deadline, DeadlineExceededError } from '../deadline/deadline';
import { killConnection, resetSocket, SessionLimits, sessionLimitsStatement } from './session';

/** Runs one SQL statement with `?` placeholders; rows for a SELECT, the result header otherwise. */
export interface SqlRunner {
  query<T = unknown>(sql: string, params?: readonly unknown[]): Promise<T>;
}

/** Only what a caller may ask for; the server default (REPEATABLE READ) is what facades use. */
export type IsolationLevel = 'READ COMMITTED';

/** Without a configuration (scripts build the host by hand): the defaults of env.validation. */
const DEFAULT_LIMITS = {
  acquireTimeoutMs: 10_000,
  statementTimeLimitMs: 5_000,
  lockWaitSeconds: 3,
  poolSize: 20,
};

/**
 * COMMIT is not sent with less than this left of the deadline: a COMMIT still in flight when the
 * deadline passes has an unknown outcome, so the last moments go to a rollback instead.
 */
export const COMMIT_RESERVE_MS = 100;

/** A pool connection on loan to one transaction or one statement, bounded by a deadline. */
interface Lease {
  readonly connection: PoolConnection;
  readonly deadline: Deadline | undefined;
  timer?: NodeJS.Timeout;
  /** Set once the deadline passed: the connection is gone and nothing more may run on it. */
  expired: boolean;
  /** Given back to the pool or destroyed: no longer this lease's to expire. */
  ended?: boolean;
  /** Rejects the statement in flight, if any. */
  abort?: (error: Error) => void;
}

/** The pool had no connection (or no transaction slot) for this long. */
export class PoolAcquireTimeoutError extends Error {
  override readonly name = 'PoolAcquireTimeoutError';
  readonly code = 'POOL_ACQUIRE_TIMEOUT';

  constructor(waitedMs: number) {
    super(`No MySQL connection became free within ${waitedMs} ms`);
  }
}

/**
 * The transaction context: a facade opens a transaction with `withTransaction`, and every
 * repository call made inside it (however deep) runs on that transaction's connection through
 * `tx`, so no EntityManager travels through method signatures. Outside a transaction `tx` runs
 * each statement on a connection of its own from the pool.
 *
 * Hand-written on AsyncLocalStorage and TypeORM's own mysql2 pool rather than nestjs-cls and
 * TypeORM's query runner: those cost about a fifth of the CPU of a hold (ADR 0009). TypeORM still
 * owns the pool, the connection options and the migrations.
 *
 * Bounds (ADR 0013): the wait for a connection is at most DB_POOL_ACQUIRE_TIMEOUT_MS; under a
 * deadline (a request's, or a job run's) every statement gets only what is left of it, and when
 * it passes the connection is reset and its server thread killed, so nothing sent on it can
 * commit afterwards. Transactions may hold only part of the pool, so plain reads always find a
 * connection even while every transaction waits on a lock.
 */
@Injectable()
export class TransactionHost {
  private readonly logger = new Logger(TransactionHost.name);
  // One store per host (per app), so several apps in one process never share a transaction.
  private readonly active = new AsyncLocalStorage<Lease>();
  private readonly runner: SqlRunner = {
    query: <T>(sql: string, params: readonly unknown[] = []) => {
      const lease = this.active.getStore();
      return lease ? this.run<T>(lease, sql, params) : this.runAlone<T>(sql, params);
    },
  };
  private readonly acquireTimeoutMs: number;
  private readonly transactionSlots: Slots;
  private readonly limits: SessionLimits;
  /**
   * Connections whose session has the limits, with the lock wait it has now; a connection lives
   * as long as its session.
   */
  private readonly lockWaits = new WeakMap<PoolConnection, number>();
  private flavour?: Promise<'mariadb' | 'mysql'>;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(databaseConfig.KEY) config?: DatabaseConfig,
  ) {
    const { acquireTimeoutMs, statementTimeLimitMs, lockWaitSeconds, poolSize } =
      config ?? DEFAULT_LIMITS;
    this.acquireTimeoutMs = acquireTimeoutMs;
    this.limits = { statementTimeLimitMs, lockWaitSeconds };
    this.transactionSlots = new Slots(transactionShare(poolSize));
  }

  /** The active transaction, or the pool when there is none. */
  get tx(): SqlRunner {
    return this.runner;
  }

  isTransactionActive(): boolean {
    return this.active.getStore() !== undefined;
  }

  /**
   * Runs `work` in one transaction: commit when it resolves, rollback when it throws. Called
   * inside a transaction, `work` joins it, so a use case can compose steps that each need one.
   * `isolation` applies to this transaction only (a joined call keeps the outer one's), and so
   * does `lockWaitSeconds`, the longest any of its statements waits for a row lock (default: the
   * session's, a third of the deadline).
   */
  async withTransaction<T>(
    work: () => Promise<T>,
    options: { isolation?: IsolationLevel; lockWaitSeconds?: number } = {},
  ): Promise<T> {
    if (this.isTransactionActive()) return work();
    return this.inTransaction(async (lease) => {
      await this.setLockWait(lease, options.lockWaitSeconds ?? this.limits.lockWaitSeconds);
      // Without SESSION it covers the next transaction only: the pooled connection's next user
      // gets the server default again.
      if (options.isolation) {
        await this.run(lease, `SET TRANSACTION ISOLATION LEVEL ${options.isolation}`);
      }
      await this.run(lease, 'START TRANSACTION');
      return this.active.run(lease, work);
    });
  }

  /**
   * Runs `work` on one consistent snapshot: a read-only REPEATABLE READ transaction whose read
   * view is taken at once, so every statement in it sees the database at the same instant (a
   * payment is either wholly in it or not at all) while taking no row locks, so writers never
   * wait for it. For long whole-database reads such as the audit; it never joins another
   * transaction, whose reads would not be of one instant.
   */
  async withReadOnlySnapshot<T>(work: () => Promise<T>): Promise<T> {
    if (this.isTransactionActive()) {
      throw new Error('withReadOnlySnapshot cannot run inside another transaction');
    }
    return this.inTransaction(async (lease) => {
      // Takes no locks, so its lock wait does not matter. Without SESSION the isolation level
      // applies to the next transaction only, so the pooled connection keeps its default.
      await this.run(lease, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await this.run(lease, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      return this.active.run(lease, work);
    });
  }

  /** Begin (in `body`), commit, or roll back, on a leased connection within a transaction slot. */
  private async inTransaction<T>(body: (lease: Lease) => Promise<T>): Promise<T> {
    const deadline = currentDeadline();
    // A transaction holds its connection across statements (and lock waits): it waits for a
    // slot first, so it never takes the connections kept for plain reads.
    await this.bounded(deadline, (waitMs) => this.transactionSlots.acquire(waitMs));
    try {
      const lease = await this.lease(deadline);
      try {
        const result = await body(lease);
        if (deadline && deadline.remainingMs() < COMMIT_RESERVE_MS) {
          throw new DeadlineExceededError('The transaction');
        }
        await this.run(lease, 'COMMIT');
        this.giveBack(lease);
        return result;
      } catch (error) {
        await this.rollbackOrDiscard(lease);
        throw error;
      }
    } finally {
      this.transactionSlots.release();
    }
  }

  /** One statement outside any transaction, on a connection of its own for its duration. */
  private async runAlone<T>(sql: string, params: readonly unknown[]): Promise<T> {
    const lease = await this.lease(currentDeadline());
    try {
      const result = await this.run<T>(lease, sql, params);
      this.giveBack(lease);
      return result;
    } catch (error) {
      // A failed statement leaves a healthy connection unless the failure was the connection.
      if (lease.expired || isConnectionFatal(error)) this.discard(lease);
      else this.giveBack(lease);
      throw error;
    }
  }

  private run<T>(lease: Lease, sql: string, params: readonly unknown[] = []): Promise<T> {
    if (lease.expired) return Promise.reject(new DeadlineExceededError());
    if (lease.deadline && lease.deadline.remainingMs() <= 0) {
      this.expire(lease);
      return Promise.reject(new DeadlineExceededError());
    }
    return new Promise<T>((resolve, reject) => {
      lease.abort = reject;
      lease.connection.query(sql, params as unknown[], (error, result) => {
        lease.abort = undefined;
        if (lease.expired) reject(new DeadlineExceededError());
        else if (error) reject(error);
        else resolve(result as T);
      });
    });
  }

  /** A wait of at most DB_POOL_ACQUIRE_TIMEOUT_MS, and never past the deadline. */
  private async bounded<T>(
    deadline: Deadline | undefined,
    wait: (waitMs: number) => Promise<T>,
  ): Promise<T> {
    const left = deadline ? deadline.remainingMs() : Number.POSITIVE_INFINITY;
    if (left <= 0) throw new DeadlineExceededError();
    const waitMs = Math.min(this.acquireTimeoutMs, left);
    try {
      return await wait(waitMs);
    } catch (error) {
      // Cut short by the deadline rather than by the pool's own bound.
      if (error instanceof PoolAcquireTimeoutError && waitMs < this.acquireTimeoutMs) {
        throw new DeadlineExceededError();
      }
      throw error;
    }
  }

  private async lease(deadline: Deadline | undefined): Promise<Lease> {
    const connection = await this.bounded(deadline, (waitMs) => acquire(this.pool(), waitMs));
    const lease: Lease = { connection, deadline, expired: false };
    if (deadline) {
      // One poll phase of grace: after a pause of the whole process (a GC, a frozen VM) the timer
      // fires before the loop has read what arrived meanwhile; an answer already there, a
      // COMMIT's OK above all, must win over the deadline rather than be thrown away unread.
      lease.timer = setTimeout(
        () => setImmediate(() => this.expire(lease)),
        Math.max(0, deadline.remainingMs()),
      );
    }
    if (!this.lockWaits.has(connection)) {
      try {
        await this.prepareSession(lease);
      } catch (error) {
        this.discard(lease);
        throw error;
      }
    }
    return lease;
  }

  /** Sets the session limits once per connection (ADR 0013); the flavour is asked for once. */
  private async prepareSession(lease: Lease): Promise<void> {
    this.flavour ??= this.run<{ version: string }[]>(lease, 'SELECT VERSION() AS version').then(
      ([row]) => (/mariadb/i.test(row.version) ? 'mariadb' : 'mysql'),
    );
    let flavour: 'mariadb' | 'mysql';
    try {
      flavour = await this.flavour;
    } catch (error) {
      this.flavour = undefined;
      throw error;
    }
    await this.run(lease, sessionLimitsStatement(flavour, this.limits));
    this.lockWaits.set(lease.connection, this.limits.lockWaitSeconds);
  }

  /**
   * A session value, so it costs a statement only when this connection's last transaction asked
   * for another one (holds want 1 s, everything else the default).
   */
  private async setLockWait(lease: Lease, seconds: number): Promise<void> {
    if (this.lockWaits.get(lease.connection) === seconds) return;
    await this.run(lease, `SET SESSION innodb_lock_wait_timeout = ${Math.floor(seconds)}`);
    this.lockWaits.set(lease.connection, seconds);
  }

  private giveBack(lease: Lease): void {
    clearTimeout(lease.timer);
    lease.ended = true;
    lease.connection.release();
  }

  private discard(lease: Lease): void {
    clearTimeout(lease.timer);
    if (lease.expired || lease.ended) return;
    lease.ended = true;
    lease.connection.on('error', () => undefined);
    lease.connection.destroy();
  }

  /**
   * The deadline passed. The connection is reset (RST, not FIN: a FIN lets the server read a
   * COMMIT still queued on the way before it sees the end; a reset discards it) and its server
   * thread killed from a fresh connection, which rolls its transaction back and frees its locks
   * at once if the server is reachable. See ADR 0013 for what remains possible and why.
   */
  private expire(lease: Lease): void {
    if (lease.expired || lease.ended) return;
    lease.expired = true;
    clearTimeout(lease.timer);
    lease.abort?.(new DeadlineExceededError());
    const { connection } = lease;
    const threadId = connection.threadId;
    connection.on('error', () => undefined);
    resetSocket(connection);
    connection.destroy();
    killConnection(this.dataSource.options as MysqlDataSourceOptions, threadId, this.logger);
  }

  /**
   * A connection whose rollback failed may still have the transaction open (or be dead): it is
   * destroyed rather than handed to the next request.
   */
  private async rollbackOrDiscard(lease: Lease): Promise<void> {
    if (lease.expired) return;
    try {
      await this.run(lease, 'ROLLBACK');
      this.giveBack(lease);
    } catch {
      this.discard(lease);
    }
  }

  private pool(): Pool {
    // The driver's pool exists once the DataSource is initialised, which Nest does before any
    // provider that injects it is built.
    return (this.dataSource.driver as MysqlDriver).pool as Pool;
  }
}

/**
 * Connections transactions may hold at once: all but a fifth of the pool (at least one) stays
 * free for plain reads, which never block on a row lock and so never wait for a stalled writer.
 */
export function transactionShare(poolSize: number): number {
  if (poolSize < 4) return poolSize;
  return poolSize - Math.max(1, Math.floor(poolSize / 5));
}

function acquire(pool: Pool, waitMs: number): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      reject(new PoolAcquireTimeoutError(Math.round(waitMs)));
    }, waitMs);
    pool.getConnection((error, connection) => {
      clearTimeout(timer);
      if (!gaveUp) {
        if (error) reject(error);
        else resolve(connection);
      } else if (!error) {
        // Handed over after we stopped waiting: straight back, for the next in line.
        connection.release();
      }
    });
  });
}

function isConnectionFatal(error: unknown): boolean {
  return (error as { fatal?: unknown } | null)?.fatal === true;
}

/** A counting semaphore whose waiters give up after a bound (FIFO). */
class Slots {
  private free: number;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(waitMs: number): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = { grant: () => undefined as void };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new PoolAcquireTimeoutError(Math.round(waitMs)));
      }, waitMs);
      waiter.grant = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(waiter);
    });
  }

  release(): void {
    // Hand the slot straight to the next waiter, or give it back.
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.free++;
  }
}
