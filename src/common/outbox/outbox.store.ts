import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { asWriteResult, DB_NOW } from '../database/sql';
import { TransactionHost } from '../database/transaction';
import { BookingEvent, partitionOf, StoredEvent } from './booking-event';

interface EventRow {
  id: number;
  event_id: string;
  type: string;
  subject: string;
  data: string;
  created_at: Date;
}

export interface OutboxBacklog {
  unsent: number;
  /** Seconds since the oldest unsent event was committed; 0 when none is waiting. */
  oldestAgeSeconds: number;
}

/** The `outbox_events` and `outbox_partitions` tables. Joins the caller's transaction. */
@Injectable()
export class OutboxStore {
  constructor(private readonly txHost: TransactionHost) {}

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  /** One multi-row INSERT; `created_at` is the database clock, the envelope's `time`. */
  async insert(events: readonly BookingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map(() => `(?, ?, ?, ?, ?, ${DB_NOW})`).join(', ');
    const params = events.flatMap((event) => [
      randomUUID(),
      event.type,
      event.subject,
      partitionOf(event.subject),
      JSON.stringify(event.data),
    ]);
    await this.query(
      `INSERT INTO outbox_events (event_id, type, subject, partition_no, data, created_at)
       VALUES ${rows}`,
      params,
    );
  }

  /** Partitions with at least one unsent event (a loose index scan, no locks). */
  async pendingPartitions(): Promise<number[]> {
    const rows = await this.query<{ partition_no: number }[]>(
      'SELECT DISTINCT partition_no FROM outbox_events WHERE sent_at IS NULL',
    );
    return rows.map((row) => row.partition_no);
  }

  /**
   * Locks those of `candidates` no other relay holds, to the end of the current transaction.
   * SKIP LOCKED: a partition another instance is publishing is simply not ours this round.
   */
  async claimPartitions(candidates: readonly number[]): Promise<number[]> {
    if (candidates.length === 0) return [];
    const rows = await this.query<{ partition_no: number }[]>(
      `SELECT partition_no FROM outbox_partitions
        WHERE partition_no IN (?) FOR UPDATE SKIP LOCKED`,
      [candidates],
    );
    return rows.map((row) => row.partition_no);
  }

  /**
   * The oldest unsent events of each claimed partition, in commit order. A plain read: the
   * partition lock is what makes them ours, and at READ COMMITTED it sees every event whose
   * sending the previous holder committed.
   */
  async unsentIn(partitions: readonly number[], perPartition: number): Promise<StoredEvent[]> {
    if (partitions.length === 0) return [];
    const select = `(SELECT id, event_id, type, subject, data, created_at FROM outbox_events
                      WHERE sent_at IS NULL AND partition_no = ? ORDER BY id LIMIT ?)`;
    const rows = await this.query<EventRow[]>(
      partitions.map(() => select).join(' UNION ALL '),
      partitions.flatMap((partition) => [partition, perPartition]),
    );
    return rows.map(toStoredEvent).sort((a, b) => a.seq - b.seq);
  }

  async markSent(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.query(`UPDATE outbox_events SET sent_at = ${DB_NOW} WHERE id IN (?)`, [seqs]);
  }

  async backlog(): Promise<OutboxBacklog> {
    const [row] = await this.query<{ unsent: number | string; age_us: number | string | null }[]>(
      `SELECT u.unsent,
              (SELECT TIMESTAMPDIFF(MICROSECOND, e.created_at, ${DB_NOW})
                 FROM outbox_events e WHERE e.id = u.oldest) AS age_us
         FROM (SELECT COUNT(*) AS unsent, MIN(id) AS oldest
                 FROM outbox_events WHERE sent_at IS NULL) u`,
    );
    return {
      unsent: Number(row.unsent),
      oldestAgeSeconds: row.age_us === null ? 0 : Math.max(0, Number(row.age_us) / 1e6),
    };
  }

  /**
   * Deletes up to `limit` events committed more than `hours` ago: sent ones only, or unsent ones
   * too when no relay will ever send them. Returns how many it deleted.
   */
  async purgeOlderThan(hours: number, includeUnsent: boolean, limit: number): Promise<number> {
    const { affectedRows } = asWriteResult(
      await this.query(
        `DELETE FROM outbox_events
          WHERE created_at < ${DB_NOW} - INTERVAL ? HOUR
                ${includeUnsent ? '' : 'AND sent_at IS NOT NULL'}
          LIMIT ?`,
        [hours, limit],
      ),
    );
    return affectedRows;
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: row.id,
    id: row.event_id,
    type: row.type,
    subject: row.subject,
    time: row.created_at,
    data: row.data,
  };
}
