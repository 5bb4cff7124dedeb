import { INestApplicationContext } from '@nestjs/common';
import { Connection, createConnection } from 'mysql2/promise';
import { sql } from './app';

/**
 * Transactions of this test file's database blocked on a row lock right now. Tests wait for it
 * (with eventually) to know a competing statement really is queued behind a lock, instead of
 * sleeping and hoping it got there; other files' databases on the same server are not counted.
 */
export async function transactionsWaitingForLocks(app: INestApplicationContext): Promise<number> {
  const [row] = await sql<{ waiting: number | string }[]>(
    app,
    `SELECT COUNT(*) AS waiting
       FROM information_schema.INNODB_TRX t
       JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
      WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
  );
  return Number(row.waiting);
}

/**
 * A connection of its own to `database` (this test file's unless told) on the test server:
 * around every app's pool and proxy, so it sees what the server really holds.
 */
export function connectDirectly(database = process.env.DB_NAME): Promise<Connection> {
  return createConnection({
    host: process.env.DB_HOST,
    port: Number(process.env.DB_PORT),
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    database,
  });
}

/** One statement on a direct connection to `database` (a built server's, say), then closed. */
export async function queryDirectly<T>(
  database: string,
  query: string,
  params: unknown[] = [],
): Promise<T> {
  const db = await connectDirectly(database);
  try {
    const [rows] = await db.query(query, params);
    return rows as T;
  } finally {
    await db.end();
  }
}
