import { INestApplicationContext } from '@nestjs/common';
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
