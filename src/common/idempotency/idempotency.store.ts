import { TransactionHost } from '../database/transaction';
import { Injectable } from '@nestjs/common';
import { asWriteResult, DB_NOW, isDuplicateKeyError } from '../database/sql';
import { IDEMPOTENCY_RETENTION_HOURS } from './idempotency.constants';

export interface IdempotencyRecord {
  fingerprint: string;
  responseStatus: number;
  responseBody: string;
}

interface RecordRow {
  request_fingerprint: string;
  response_status: number | null;
  response_body: string | null;
}

/** The `idempotency_keys` table. Joins the caller's transaction through TransactionHost. */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly txHost: TransactionHost) {}

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  /** The completed, unexpired record of this key, if any. */
  async find(userId: string, scope: string, key: string): Promise<IdempotencyRecord | null> {
    const rows = await this.query<RecordRow[]>(
      `SELECT request_fingerprint, response_status, response_body FROM idempotency_keys
        WHERE user_id = ? AND scope = ? AND idem_key = ? AND expires_at > ${DB_NOW}`,
      [userId, scope, key],
    );
    const row = rows[0];
    // A claim and its response are written in one transaction, so a visible row is complete;
    // the check only guards against rows written by something else.
    if (!row || row.response_status === null || row.response_body === null) return null;
    return {
      fingerprint: row.request_fingerprint,
      responseStatus: row.response_status,
      responseBody: row.response_body,
    };
  }

  /**
   * Inserts the key's row inside the current transaction and returns its id, or null when a live
   * row already exists. A concurrent uncommitted claim of the same key makes this wait on the
   * unique index until that transaction ends: that is the fence when the Redis marker is gone.
   */
  async claim(
    userId: string,
    scope: string,
    key: string,
    requestFingerprint: string,
  ): Promise<number | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const { insertId } = asWriteResult(
          await this.query(
            `INSERT INTO idempotency_keys
               (user_id, scope, idem_key, request_fingerprint, created_at, expires_at)
             VALUES (?, ?, ?, ?, ${DB_NOW}, ${DB_NOW} + INTERVAL ${IDEMPOTENCY_RETENTION_HOURS} HOUR)`,
            [userId, scope, key, requestFingerprint],
          ),
        );
        return insertId;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // The key may be taken by an expired row the purge job has not reached yet: drop it
        // and try once more. A duplicate-key error only fails the statement, not the transaction.
        const { affectedRows } = asWriteResult(
          await this.query(
            `DELETE FROM idempotency_keys
              WHERE user_id = ? AND scope = ? AND idem_key = ? AND expires_at <= ${DB_NOW}`,
            [userId, scope, key],
          ),
        );
        if (affectedRows === 0) return null;
      }
    }
    return null;
  }

  async complete(id: number, status: number, body: string): Promise<void> {
    await this.query(
      'UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE id = ?',
      [status, body, id],
    );
  }

  /** Deletes up to `limit` expired rows; returns how many went. */
  async purgeExpired(limit: number): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(`DELETE FROM idempotency_keys WHERE expires_at <= ${DB_NOW} LIMIT ?`, [
        limit,
      ]),
    );
    return affectedRows;
  }
}
