import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { Pool, PoolConnection } from 'mysql2';
import { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';

/** Runs one SQL statement with `?` placeholders; rows for a SELECT, the result header otherwise. */
export interface SqlRunner {
  query<T = unknown>(sql: string, params?: readonly unknown[]): Promise<T>;
}

/** Only what a caller may ask for; the server default (REPEATABLE READ) is what facades use. */
export type IsolationLevel = 'READ COMMITTED';

/**
 * The transaction context: a facade opens a transaction with `withTransaction`, and every
 * repository call made inside it (however deep) runs on that transaction's connection through
 * `tx`, so no EntityManager travels through method signatures. Outside a transaction `tx` runs
 * each statement on the pool.
 *
 * Hand-written on AsyncLocalStorage and TypeORM's own mysql2 pool rather than nestjs-cls and
 * TypeORM's query runner: those cost about a fifth of the CPU of a hold (ADR 0009). TypeORM still
 * owns the pool, the connection options and the migrations.
 */
@Injectable()
export class TransactionHost {
  // One store per host (per app), so several apps in one process never share a transaction.
  private readonly active = new AsyncLocalStorage<PoolConnection>();
  private readonly runner: SqlRunner = {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      run<T>(this.active.getStore() ?? this.pool(), sql, params),
  };

  constructor(private readonly dataSource: DataSource) {}

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
   * `isolation` applies to this transaction only (a joined call keeps the outer one's).
   */
  async withTransaction<T>(
    work: () => Promise<T>,
    options: { isolation?: IsolationLevel } = {},
  ): Promise<T> {
    if (this.isTransactionActive()) return work();
    const connection = await connect(this.pool());
    try {
      // Without SESSION it covers the next transaction only: the pooled connection's next user
      // gets the server default again.
      if (options.isolation) {
        await run(connection, `SET TRANSACTION ISOLATION LEVEL ${options.isolation}`);
      }
      await run(connection, 'START TRANSACTION');
      const result = await this.active.run(connection, work);
      await run(connection, 'COMMIT');
      connection.release();
      return result;
    } catch (error) {
      await rollbackOrDiscard(connection);
      throw error;
    }
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
    const connection = await connect(this.pool());
    try {
      // Without SESSION it applies to the next transaction only, so the pooled connection keeps
      // its default afterwards.
      await run(connection, 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run(connection, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const result = await this.active.run(connection, work);
      await run(connection, 'COMMIT');
      connection.release();
      return result;
    } catch (error) {
      await rollbackOrDiscard(connection);
      throw error;
    }
  }

  private pool(): Pool {
    // The driver's pool exists once the DataSource is initialised, which Nest does before any
    // provider that injects it is built.
    return (this.dataSource.driver as MysqlDriver).pool as Pool;
  }
}

function run<T>(target: Pool | PoolConnection, sql: string, params: readonly unknown[] = []) {
  return new Promise<T>((resolve, reject) => {
    target.query(sql, params as unknown[], (error, result) => {
      if (error) reject(error);
      else resolve(result as T);
    });
  });
}

function connect(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => {
      if (error) reject(error);
      else resolve(connection);
    });
  });
}

/**
 * A connection whose rollback failed may still have the transaction open (or be dead): it is
 * destroyed rather than handed to the next request.
 */
async function rollbackOrDiscard(connection: PoolConnection): Promise<void> {
  try {
    await run(connection, 'ROLLBACK');
    connection.release();
  } catch {
    connection.destroy();
  }
}
