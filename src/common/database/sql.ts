/**
 * The one clock for every expiry decision: the database's, in UTC. Using it in SQL (rather than
 * each instance's Date.now()) means clock skew between API instances cannot stretch or cut a hold.
 */
export const DB_NOW = 'UTC_TIMESTAMP(3)';

/** Result header of an INSERT/UPDATE/DELETE run through EntityManager.query() on mysql2. */
export interface SqlWriteResult {
  affectedRows: number;
  insertId: number;
}

export function asWriteResult(result: unknown): SqlWriteResult {
  const header = result as Partial<SqlWriteResult> | undefined;
  return { affectedRows: header?.affectedRows ?? 0, insertId: header?.insertId ?? 0 };
}

/** mysql2 driver error codes, via TypeORM's QueryFailedError or raw. */
export function driverErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate.driverError?.code ?? candidate.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDuplicateKeyError(error: unknown): boolean {
  return driverErrorCode(error) === 'ER_DUP_ENTRY';
}

/**
 * The row was locked by another transaction for longer than this transaction's lock wait (ADR
 * 0013): its holder is stalled or gone, or too many wait for it. Where a locked row can only mean "someone is taking
 * it", the repository turns this into the domain's "taken" answer.
 */
export function isLockWaitTimeout(error: unknown): boolean {
  return driverErrorCode(error) === 'ER_LOCK_WAIT_TIMEOUT';
}
