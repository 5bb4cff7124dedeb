import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Pool, PoolConnection } from 'mysql2';
import { DataSource } from 'typeorm';
import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { databaseConfig, DatabaseConfig } from '../config/configuration';
import {
  currentDeadline,
  Deadline,
  DeadlineExceededError,
  isDeadlineExceeded,
  runWithDeadline,
  withinDeadline,
} from '../deadline/deadline';
import {
  appliedExpression,
  Flavour,
  primaryPositionSql,
  Replica,
  REPLICA_ACQUIRE_TIMEOUT_MS,
  REPLICA_CHECK_INTERVAL_MS,
  REPLICA_CHECK_TIMEOUT_MS,
  REPLICA_POSITION_WAIT_MS,
  ReplicaSet,
  ReplicaStatus,
  waitForPositionSql,
} from './replicas';
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

/**
 * A history read gives up on the replica (and asks the primary) when less than this is left of
 * its deadline: the primary must still have time to answer.
 */
const REPLICA_WAIT_RESERVE_MS = 250;
/** Replica positions checked per round: the oldest few (the lag) and the newest (caught up?). */
const CHECKED_POSITIONS = 8;

/** A pool connection on loan to one transaction or one statement, bounded by a deadline. */
interface Lease {
  readonly connection: PoolConnection;
  readonly deadline: Deadline | undefined;
  /** On a replica: the server its thread is killed on. */
  readonly replica?: Replica;
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
export class TransactionHost implements OnApplicationBootstrap, OnApplicationShutdown {
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
  private flavour?: Promise<Flavour>;
  /** DB_REPLICA_HOSTS; undefined without replicas, and then every runner is `tx`. */
  private readonly replicaSet?: ReplicaSet;
  private readonly mayLagRunner: SqlRunner;
  private readonly upToDateRunner: SqlRunner;
  private checkTimer?: NodeJS.Timeout;
  private checking = false;
  /** The primary's position being read now, and the read queued after it (shared by reads). */
  private positionNow?: Promise<string>;
  private positionNext?: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(databaseConfig.KEY) config?: DatabaseConfig,
  ) {
    const { acquireTimeoutMs, statementTimeLimitMs, lockWaitSeconds, poolSize } =
      config ?? DEFAULT_LIMITS;
    this.acquireTimeoutMs = acquireTimeoutMs;
    this.limits = { statementTimeLimitMs, lockWaitSeconds };
    this.transactionSlots = new Slots(transactionShare(poolSize));
    const replicas = config?.replicas ?? [];
    if (config && replicas.length > 0) {
      const options = dataSource.options as MysqlDataSourceOptions;
      this.replicaSet = new ReplicaSet(
        replicas.map(({ host, port }) => new Replica(host, port, options)),
        config.replicaMaxLagMs,
      );
      this.mayLagRunner = { query: (sql, params = []) => this.readOnReplica(sql, params, false) };
      this.upToDateRunner = { query: (sql, params = []) => this.readOnReplica(sql, params, true) };
    } else {
      this.mayLagRunner = this.runner;
      this.upToDateRunner = this.runner;
    }
  }

  /** The active transaction, or the pool when there is none. */
  get tx(): SqlRunner {
    return this.runner;
  }

  /**
   * Reads that may be served by a replica up to DB_REPLICA_MAX_LAG_MS behind the primary: the
   * public catalogue, where a seat shown AVAILABLE a moment after it was taken is answered 409 by
   * the hold anyway. Inside a transaction they are the transaction's; without a usable replica,
   * the primary's.
   */
  get readsMayLag(): SqlRunner {
    return this.mayLagRunner;
  }

  /**
   * Reads served by a replica only once it has applied every transaction the primary had
   * committed when the read began (a GTID wait), so a user's own writes, from whichever
   * instance, are always in them (ADR 0014). For a user's history: reservations, payments, the
   * cash ledger. Inside a transaction they are the transaction's; when no replica is usable or
   * it does not get there within REPLICA_POSITION_WAIT_MS, the primary's.
   */
  get readsUpToDate(): SqlRunner {
    return this.upToDateRunner;
  }

  /** What this instance knows of each replica (empty without replicas). */
  replicaStatus(): ReplicaStatus[] {
    return this.replicaSet?.status() ?? [];
  }

  onApplicationBootstrap(): void {
    if (!this.replicaSet) return;
    // Replicas start out unusable: reads go to the primary until the first check vouches for them.
    void this.checkReplicas();
    this.checkTimer = setInterval(() => void this.checkReplicas(), REPLICA_CHECK_INTERVAL_MS);
    this.checkTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    await this.replicaSet?.end();
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

  private async lease(deadline: Deadline | undefined, replica?: Replica): Promise<Lease> {
    const connection = replica
      ? await acquireOnReplica(replica, deadline)
      : await this.bounded(deadline, (waitMs) => acquire(this.pool(), waitMs));
    const lease: Lease = { connection, deadline, expired: false, replica };
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
    const server =
      lease.replica?.killOptions ?? (this.dataSource.options as MysqlDataSourceOptions);
    killConnection(server, threadId, this.logger);
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

  private readOnReplica<T>(sql: string, params: readonly unknown[], upToDate: boolean): Promise<T> {
    const lease = this.active.getStore();
    if (lease) return this.run<T>(lease, sql, params);
    const replica = this.replicaSet?.pick();
    if (!replica) return this.runAlone<T>(sql, params);
    return this.runOnReplica<T>(replica, sql, params, upToDate);
  }

  private async runOnReplica<T>(
    replica: Replica,
    sql: string,
    params: readonly unknown[],
    upToDate: boolean,
  ): Promise<T> {
    const deadline = currentDeadline();
    const position = upToDate ? await this.primaryPosition(deadline) : undefined;
    replica.inFlight++;
    let answer: { rows: T } | undefined;
    try {
      answer = await this.readOn<T>(replica, deadline, sql, params, position);
    } finally {
      replica.inFlight--;
    }
    return answer ? answer.rows : this.runAlone<T>(sql, params);
  }

  /**
   * The read on the replica, or undefined when the primary is to answer it instead: the replica
   * is unreachable, busy, failing, or not at `position` within the lag bound. Only the deadline
   * ends the read here (503); a replica never turns a read the primary could answer into an error.
   */
  private async readOn<T>(
    replica: Replica,
    deadline: Deadline | undefined,
    sql: string,
    params: readonly unknown[],
    position: string | undefined,
  ): Promise<{ rows: T } | undefined> {
    let lease: Lease;
    try {
      lease = await this.lease(deadline, replica);
    } catch (error) {
      if (isDeadlineExceeded(error)) throw error;
      if (!(error instanceof PoolAcquireTimeoutError)) this.replicaFailed(replica, error);
      return undefined;
    }
    try {
      if (position === '') {
        this.giveBack(lease);
        return undefined;
      }
      if (position !== undefined && position !== replica.appliedPosition) {
        const waitMs = this.positionWaitMs(replica, deadline);
        const [row] =
          waitMs > 0
            ? await this.run<{ applied: unknown }[]>(
                lease,
                waitForPositionSql(await this.serverFlavour()),
                [position, waitMs / 1000],
              )
            : [];
        if (Number(row?.applied) !== 1) {
          this.giveBack(lease);
          return undefined;
        }
      }
      const rows = await this.run<T>(lease, sql, params);
      this.giveBack(lease);
      return { rows };
    } catch (error) {
      if (lease.expired) throw error;
      if (isConnectionFatal(error)) {
        this.discard(lease);
        this.replicaFailed(replica, error);
      } else {
        this.giveBack(lease);
      }
      return undefined;
    }
  }

  /**
   * Short (REPLICA_POSITION_WAIT_MS), never past the point where the replica is out anyway, and
   * never so long that the primary could not answer in time.
   */
  private positionWaitMs(replica: Replica, deadline: Deadline | undefined): number {
    const untilOut = (this.replicaSet?.maxLagMs ?? 0) - replica.lagMs();
    const left = deadline
      ? deadline.remainingMs() - REPLICA_WAIT_RESERVE_MS
      : Number.POSITIVE_INFINITY;
    return Math.floor(Math.min(REPLICA_POSITION_WAIT_MS, untilOut, left));
  }

  private replicaFailed(replica: Replica, error: unknown): void {
    if (replica.reachable) {
      this.logger.warn(`replica ${replica.name} out (reads go to the primary): ${describe(error)}`);
    }
    replica.markUnreachable();
  }

  /**
   * The primary's position as of a moment after this call: one read serves every caller that
   * arrived before it was sent, and a caller arriving while one is in flight waits for the next
   * (the one in flight may predate a write this caller must see).
   */
  private primaryPosition(deadline: Deadline | undefined): Promise<string> {
    const shared = this.sharedPrimaryPosition();
    return deadline ? withinDeadline(shared, deadline) : shared;
  }

  private sharedPrimaryPosition(): Promise<string> {
    if (!this.positionNow) {
      this.positionNow = this.readPrimaryPosition().finally(() => {
        this.positionNow = undefined;
      });
      return this.positionNow;
    }
    this.positionNext ??= this.positionNow
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.positionNext = undefined;
        return this.sharedPrimaryPosition();
      });
    return this.positionNext;
  }

  /** Under a bound of its own: it serves many requests, so no one request's deadline is its. */
  private readPrimaryPosition(): Promise<string> {
    return runWithDeadline(new Deadline(REPLICA_CHECK_TIMEOUT_MS), async () => {
      const flavour = await this.serverFlavour();
      const [row] = await this.runAlone<{ pos: string | null }[]>(primaryPositionSql(flavour), []);
      return row?.pos ?? '';
    });
  }

  /** The servers' flavour (replicas are of the primary's), learnt with the first connection. */
  private async serverFlavour(): Promise<Flavour> {
    if (!this.flavour) this.giveBack(await this.lease(currentDeadline()));
    return (await this.flavour) ?? 'mysql';
  }

  /**
   * One round of the replica check: the primary's position is recorded for every replica, and
   * each is asked which of its recorded positions it has applied, which is its lag (replicas.ts).
   * A replica that does not answer is out until it does.
   */
  private async checkReplicas(): Promise<void> {
    const set = this.replicaSet;
    if (!set || this.checking) return;
    this.checking = true;
    try {
      await runWithDeadline(new Deadline(REPLICA_CHECK_TIMEOUT_MS), async () => {
        // Not known before the primary first answers; no replica is to blame for that.
        const flavour = await this.serverFlavour().catch(() => undefined);
        if (!flavour) return;
        const at = performance.now();
        const position = await this.readPrimaryPosition().catch(() => undefined);
        if (position === '') {
          // No GTIDs (MySQL without gtid_mode, or no binary log): no lag can be measured and no
          // read proven up to date, so the replicas stay out.
          set.replicas.forEach((replica) =>
            this.replicaFailed(replica, new Error('the primary writes no GTIDs')),
          );
          return;
        }
        await Promise.all(
          set.replicas.map((replica) => this.checkReplica(replica, flavour, at, position)),
        );
      });
    } finally {
      this.checking = false;
    }
  }

  private async checkReplica(
    replica: Replica,
    flavour: Flavour,
    at: number,
    position?: string,
  ): Promise<void> {
    if (position !== undefined) replica.observe(at, position);
    const pending = replica.pendingPositions();
    const asked =
      pending.length <= CHECKED_POSITIONS
        ? pending.map((_, index) => index)
        : [
            ...Array.from({ length: CHECKED_POSITIONS - 1 }, (_, index) => index),
            pending.length - 1,
          ];
    try {
      const lease = await this.lease(currentDeadline(), replica);
      let row: Record<string, unknown> | undefined;
      try {
        const columns = asked.map((_, column) => `${appliedExpression(flavour)} AS a${column}`);
        [row] = await this.run<Record<string, unknown>[]>(
          lease,
          columns.length > 0 ? `SELECT ${columns.join(', ')}` : 'SELECT 1 AS alive',
          asked.map((index) => pending[index]),
        );
        this.giveBack(lease);
      } catch (error) {
        if (lease.expired || isConnectionFatal(error)) this.discard(lease);
        else this.giveBack(lease);
        throw error;
      }
      const newest = asked.reduce(
        (found, index, column) => (Number(row?.[`a${column}`]) === 1 ? index : found),
        -1,
      );
      replica.settle(newest);
      if (!replica.reachable) this.logger.log(`replica ${replica.name} reachable`);
      replica.reachable = true;
    } catch (error) {
      this.replicaFailed(replica, error);
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

/** A replica's connection: a short wait, within the deadline; past it the primary answers. */
function acquireOnReplica(
  replica: Replica,
  deadline: Deadline | undefined,
): Promise<PoolConnection> {
  const left = deadline ? deadline.remainingMs() : Number.POSITIVE_INFINITY;
  if (left <= 0) return Promise.reject(new DeadlineExceededError());
  return acquire(replica.pool, Math.min(REPLICA_ACQUIRE_TIMEOUT_MS, left));
}

function describe(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return String(code ?? message ?? error);
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
