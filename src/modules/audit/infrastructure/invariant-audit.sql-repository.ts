import { Injectable } from '@nestjs/common';
import { DB_NOW } from '../../../common/database/sql';
import { TransactionHost } from '../../../common/database/transaction';
import { AuditRule, HELD_SEAT_GRACE_SECONDS, RuleFinding } from '../domain/audit-rule';
import {
  AuditTimeLimitError,
  InvariantAuditRepository,
  RuleQueryLimits,
} from '../domain/invariant-audit.repository';

/**
 * Each rule is one SELECT listing its offenders' ids (column `id`); the statement's parameters
 * are filled from the audit's instant. Written for MySQL 8 and MariaDB 10.11 alike, and for the
 * schema before and after the refunds migration: 'REFUNDED' is only ever compared with, so a
 * server whose enum lacks it simply finds no such row. docs/benchmarks.md ("Audit") has the
 * EXPLAIN of each at 1M reservations.
 */
interface RuleSql {
  sql: string;
  params: (now: Date) => unknown[];
}

const RULE_SQL: Record<AuditRule, RuleSql> = {
  // Driven by the seats (a full scan: a third of them may be SOLD), each seat's reservations
  // found through idx_reservations_seat (a covering index with the status was measured twice as
  // fast, but it made refunds, holds and the expiry job deadlock: docs/audit.md). A seat missing its
  // CONFIRMED reservation, having two, or whose payment is missing or REFUNDED counts once.
  sold_seat_without_one_paid_reservation: {
    sql: `SELECT s.id
            FROM seats s
            LEFT JOIN reservations r ON r.seat_id = s.id AND r.status = 'CONFIRMED'
            LEFT JOIN payments p ON p.id = r.payment_id AND p.status = 'COMPLETED'
           WHERE s.status = 'SOLD'
           GROUP BY s.id
          HAVING COUNT(r.id) <> 1 OR COUNT(p.id) <> 1`,
    params: () => [],
  },
  // By seat_id, not live_seat_id: the unique key on live_seat_id is the mechanism that keeps this
  // rule, and an audit must not take the mechanism's word for it. Two range reads of
  // idx_reservations_status_expires; one OR-ed WHERE made the optimizer walk the seat index with
  // a row lookup per reservation instead (37-47 s against 0.7 s at 1M rows).
  seat_with_two_live_reservations: {
    sql: `SELECT seat_id AS id
            FROM (SELECT seat_id FROM reservations WHERE status = 'CONFIRMED'
                  UNION ALL
                  SELECT seat_id FROM reservations WHERE status = 'HELD' AND expires_at > ?) live
           GROUP BY seat_id
          HAVING COUNT(*) > 1`,
    params: (now) => [now],
  },
  // Wallets and ledger as one stream summed per user: two sequential reads and one grouping,
  // where a sum per wallet read the ledger rows in random order (0.4 s against 1.4 s at 1M). A
  // ledger without a wallet counts as a wallet of balance 0.
  wallet_balance_differs_from_history: {
    sql: `SELECT user_id AS id
            FROM (SELECT user_id, balance AS amount FROM cash_wallets
                  UNION ALL
                  SELECT user_id, -amount FROM cash_history) ledger
           GROUP BY user_id
          HAVING SUM(amount) <> 0`,
    params: () => [],
  },
  // The same shape per payment (0.7 s against 1.1 s for a join to a grouped derived table). A
  // REFUNDED payment keeps its reservations (REFUNDED too), so the sum holds for both statuses; a
  // payment without any reservation sums to its amount and so is reported.
  payment_amount_differs_from_reservations: {
    sql: `SELECT id
            FROM (SELECT id, amount, 1 AS is_payment FROM payments
                  UNION ALL
                  SELECT payment_id, -CAST(price AS SIGNED), 0 FROM reservations
                   WHERE payment_id IS NOT NULL) items
           GROUP BY id
          HAVING MAX(is_payment) = 1 AND SUM(amount) <> 0`,
    params: () => [],
  },
  // A HELD seat without an end at all is broken too.
  seat_held_past_hold_end: {
    sql: `SELECT id FROM seats
           WHERE status = 'HELD' AND (hold_expires_at IS NULL OR hold_expires_at < ?)`,
    params: (now) => [new Date(now.getTime() - HELD_SEAT_GRACE_SECONDS * 1000)],
  },
};

/**
 * A rule's statement: its offenders counted in full and the lowest ids listed, in one read.
 * Exported for the scale script, which EXPLAINs and times exactly what the audit sends.
 */
export function auditStatement(
  rule: AuditRule,
  now: Date,
  examples: number,
): { sql: string; params: unknown[] } {
  const { sql, params } = RULE_SQL[rule];
  return {
    sql: `SELECT id, COUNT(*) OVER () AS total FROM (${sql}) offenders ORDER BY id LIMIT ?`,
    params: [...params(now), examples],
  };
}

export type Flavour = 'mariadb' | 'mysql';

// MariaDB's ER_STATEMENT_TIMEOUT (mysql2 has no name for it) and MySQL's ER_QUERY_TIMEOUT.
const STATEMENT_TIMEOUT_ERRNOS = new Set([1969, 3024]);

/**
 * The statement's own time limit, enforced by the server, which stops reading when it runs out:
 * MariaDB `SET STATEMENT max_statement_time` (seconds), MySQL's MAX_EXECUTION_TIME hint (ms).
 */
export function withTimeLimit(flavour: Flavour, sql: string, timeLimitMs: number): string {
  const ms = Math.max(1, Math.floor(timeLimitMs));
  if (flavour === 'mariadb') {
    return `SET STATEMENT max_statement_time = ${(ms / 1000).toFixed(3)} FOR ${sql}`;
  }
  return sql.replace(/^\s*SELECT\b/, `SELECT /*+ MAX_EXECUTION_TIME(${ms}) */`);
}

function isStatementTimeout(error: unknown): boolean {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' && STATEMENT_TIMEOUT_ERRNOS.has(errno);
}

@Injectable()
export class InvariantAuditSqlRepository extends InvariantAuditRepository {
  private flavour?: Flavour;

  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  async databaseNow(): Promise<Date> {
    const [row] = await this.txHost.tx.query<{ now: Date; version: string }[]>(
      `SELECT ${DB_NOW} AS now, VERSION() AS version`,
    );
    this.flavour = /mariadb/i.test(row.version) ? 'mariadb' : 'mysql';
    return row.now;
  }

  async findViolations(rule: AuditRule, now: Date, limits: RuleQueryLimits): Promise<RuleFinding> {
    const { sql, params } = auditStatement(rule, now, limits.examples);
    const statement = withTimeLimit(this.flavour ?? 'mysql', sql, limits.timeLimitMs);
    let rows: { id: number | string; total: number | string }[];
    try {
      rows = await this.txHost.tx.query(statement, params);
    } catch (error) {
      if (isStatementTimeout(error)) throw new AuditTimeLimitError(rule);
      throw error;
    }
    return {
      rule,
      count: rows.length > 0 ? Number(rows[0].total) : 0,
      examples: rows.map((row) => row.id),
    };
  }
}
