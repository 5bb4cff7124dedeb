import { TransactionHost } from '../../src/common/database/transaction';
import { DataSource, QueryRunner } from 'typeorm';
import { IDEMPOTENCY_PURGE_BATCH } from '../../src/common/idempotency/idempotency.constants';
import { IdempotencyStore } from '../../src/common/idempotency/idempotency.store';
import { BalanceChange } from '../../src/modules/cash/domain/cash-wallet';
import { CashWalletSqlRepository } from '../../src/modules/cash/infrastructure/cash-wallet.sql-repository';
import { ConcertSqlRepository } from '../../src/modules/concert/infrastructure/concert.sql-repository';
import { SeatSqlRepository } from '../../src/modules/concert/infrastructure/seat.sql-repository';
import { ReservationSqlRepository } from '../../src/modules/reservation/infrastructure/reservation.sql-repository';
import { PAYMENT_SCOPE } from '../../src/modules/payment/application/payment.facade';
import { PAYMENT_LIST_LIMIT } from '../../src/modules/payment/domain/payment.service';
import { PaymentSqlRepository } from '../../src/modules/payment/infrastructure/payment.sql-repository';
import { RELEASE_BATCH_SIZE } from '../../src/modules/reservation/reservation.constants';
import { UserSqlRepository } from '../../src/modules/user/infrastructure/user.sql-repository';

/**
 * The hot-path queries, exercised through the real repositories (so the SQL measured is the SQL
 * the service sends, not a copy): each probe picks realistic arguments from the data set, calls
 * one repository method inside a transaction that is rolled back, and every statement the method
 * sent is EXPLAINed and the call timed.
 */

type Host = TransactionHost;
type Cell = string | number | null;
type Row = Record<string, Cell>;
type Sql = <T = Row[]>(sql: string, params?: unknown[]) => Promise<T>;

interface Repositories {
  concerts: ConcertSqlRepository;
  seats: SeatSqlRepository;
  reservations: ReservationSqlRepository;
  cash: CashWalletSqlRepository;
  users: UserSqlRepository;
  payments: PaymentSqlRepository;
  idempotency: IdempotencyStore;
}

export interface Probe<A = Row> {
  name: string;
  purpose: string;
  method: string;
  /** Arguments taken from the data set with plain SQL. */
  pick: (sql: Sql) => Promise<A>;
  call: (repos: Repositories, args: A) => Promise<unknown>;
  /** What is known about the plan (e.g. why a flagged access is fine, or the index that fixes it). */
  note?: string;
}

export interface ProbeResult {
  name: string;
  purpose: string;
  method: string;
  statements: { sql: string; explain: string }[];
  access: string[];
  medianMs: number;
  maxMs: number;
  verdict: 'ok' | 'table scan' | 'full index scan' | 'slow';
  note?: string;
}

const NOW = 'UTC_TIMESTAMP(3)';
const SLOW_MS = 10;
// Below this many estimated rows a scan is a small lookup table or a derived result, not a problem.
const SCAN_ROWS_THRESHOLD = 1000;

async function one<T = Row>(sql: Sql, query: string, params: unknown[] = []): Promise<T> {
  const rows = await sql<T[]>(query, params);
  if (!rows[0]) throw new Error(`no data for probe: ${query}`);
  return rows[0];
}

const openSchedule = (sql: Sql) =>
  one<{ schedule_id: number; concert_id: number }>(
    sql,
    `SELECT cs.id AS schedule_id, cs.concert_id FROM concert_schedules cs
      WHERE cs.booking_opens_at <= ${NOW} AND cs.booking_closes_at > ${NOW}
        AND EXISTS (SELECT 1 FROM seats s WHERE s.schedule_id = cs.id AND s.status = 'AVAILABLE')
      ORDER BY cs.id LIMIT 1`,
  );

/** The first free seat of an open schedule: what a hold would be asked for. */
const freeSeat = (sql: Sql) =>
  openSchedule(sql).then((s) =>
    one<{ schedule_id: number; seat_id: number }>(
      sql,
      `SELECT schedule_id, id AS seat_id FROM seats
        WHERE schedule_id = ? AND status = 'AVAILABLE' ORDER BY number LIMIT 1`,
      [s.schedule_id],
    ),
  );

const liveHold = (sql: Sql) =>
  one<{ id: number; seat_id: number; user_id: string }>(
    sql,
    `SELECT id, seat_id, user_id FROM reservations
      WHERE status = 'HELD' AND expires_at > ${NOW} ORDER BY id DESC LIMIT 1`,
  );

/** A user with a typical amount of everything: about 10 reservations and 3 payments. */
const typicalUser = (sql: Sql) =>
  one<{ user_id: string }>(
    sql,
    'SELECT user_id FROM reservations WHERE id = (SELECT MAX(id) DIV 2 FROM reservations)',
  );

/** Erases a probe's argument type so probes of different shapes share one list. */
function probe<A>(definition: Probe<A>): Probe<unknown> {
  return definition as unknown as Probe<unknown>;
}

export const PROBES: Probe<unknown>[] = [
  probe({
    name: 'Open schedules of a concert (with available seat counts)',
    purpose: 'GET /concerts/{id}/schedules',
    method: 'ConcertSqlRepository.listSchedulesOpenNow',
    note: 'The available-seat count reads every seat of each open schedule through `uq_seats_schedule_number` (a prefix of `schedule_id`) and checks `status` / `hold_expires_at` in the row. Bounded by 500 seats per schedule, so it stays fast; an index on `seats (schedule_id, status, hold_expires_at)` would make the count index-only if schedules ever grow far larger.',
    pick: openSchedule,
    call: (r, a: { concert_id: number }) => r.concerts.listSchedulesOpenNow(a.concert_id),
  }),
  probe({
    name: 'Seat map of a schedule',
    purpose: 'GET /concerts/{id}/schedules/{id}/seats',
    method: 'ConcertSqlRepository.listSeats',
    pick: openSchedule,
    call: (r, a: { schedule_id: number }) => r.concerts.listSeats(a.schedule_id),
  }),
  probe({
    name: 'Seat and booking window for a hold',
    purpose: 'POST /reservations: read the seat and whether booking is open',
    method: 'SeatSqlRepository.findForHold',
    pick: freeSeat,
    call: (r, a: { schedule_id: number; seat_id: number }) =>
      r.seats.findForHold(a.schedule_id, a.seat_id),
  }),
  probe({
    name: "User's live holds and seats in the schedule (hold and purchase limits), under the user lock",
    purpose: 'POST /reservations: lock the user row, count live holds and seats in the schedule',
    method: 'ReservationSqlRepository.lockUserForHold',
    pick: typicalUser,
    call: (r, a: { user_id: string }) => r.reservations.lockUserForHold(a.user_id, 1),
  }),
  probe({
    name: 'Hold a free seat (conditional UPDATE)',
    purpose: 'POST /reservations: the fence that decides who gets the seat',
    method: 'SeatSqlRepository.holdIfFree',
    pick: freeSeat,
    call: (r, a: { schedule_id: number; seat_id: number }) =>
      r.seats.holdIfFree(a.schedule_id, a.seat_id, new Date(Date.now() + 300_000)),
  }),
  probe({
    name: 'Insert the hold (unique live seat)',
    purpose: 'POST /reservations: the reservation row; uq_reservations_live_seat is the last fence',
    method: 'ReservationSqlRepository.insertHold',
    pick: (sql) =>
      Promise.all([typicalUser(sql), openSchedule(sql)]).then(([u, s]) =>
        one<{
          user_id: string;
          schedule_id: number;
          seat_id: number;
          number: number;
          price: number;
        }>(
          sql,
          `SELECT ? AS user_id, schedule_id, id AS seat_id, number, price FROM seats
            WHERE schedule_id = ? AND status = 'AVAILABLE' ORDER BY number LIMIT 1`,
          [u.user_id, s.schedule_id],
        ),
      ),
    call: (
      r,
      a: { user_id: string; schedule_id: number; seat_id: number; number: number; price: number },
    ) =>
      r.reservations.insertHold({
        userId: a.user_id,
        scheduleId: a.schedule_id,
        seatId: a.seat_id,
        seatNumber: a.number,
        price: a.price,
        expiresAt: new Date(Date.now() + 300_000),
      }),
  }),
  probe({
    name: 'Find own reservation',
    purpose: 'GET /reservations/{id}',
    method: 'ReservationSqlRepository.findOwned',
    pick: liveHold,
    call: (r, a: { id: number; user_id: string }) => r.reservations.findOwned(a.id, a.user_id),
  }),
  probe({
    name: 'Expiry scan: expired holds',
    purpose: 'release job, batches of RELEASE_BATCH_SIZE on every instance',
    method: 'ReservationSqlRepository.findExpiredHolds',
    note: 'The row estimate is every expired hold in the range; `ORDER BY expires_at LIMIT` reads only the batch, in index order (no filesort).',
    pick: () => Promise.resolve({}),
    call: (r) => r.reservations.findExpiredHolds(RELEASE_BATCH_SIZE),
  }),
  probe({
    name: 'Mark expired holds (batch UPDATE)',
    purpose: 'expiry job: conditional UPDATE of the batch',
    method: 'ReservationSqlRepository.markExpired',
    note: 'One statement for a whole batch (`RELEASE_BATCH_SIZE` rows by primary key), each row also updating `idx_reservations_status_expires` and the unique `live_seat_id`: the time is per batch, not per row.',
    pick: (sql) =>
      sql<{ id: number }[]>(
        `SELECT id FROM reservations WHERE status = 'HELD' AND expires_at <= ${NOW}
          ORDER BY expires_at LIMIT ${RELEASE_BATCH_SIZE}`,
      ).then((rows) => ({ ids: rows.length > 0 ? rows.map((row) => row.id) : [0] })),
    call: (r, a: { ids: number[] }) => r.reservations.markExpired(a.ids),
  }),
  probe({
    name: 'Release the seats of expired holds',
    purpose: 'expiry job: seats back to AVAILABLE',
    method: 'SeatSqlRepository.releaseHeldBy',
    pick: (sql) =>
      sql<{ id: number; seat_id: number }[]>(
        `SELECT id, seat_id FROM reservations WHERE status = 'HELD' AND expires_at <= ${NOW}
          ORDER BY expires_at LIMIT ${RELEASE_BATCH_SIZE}`,
      ).then((rows) => ({
        holds:
          rows.length > 0
            ? rows.map((row) => ({ seatId: row.seat_id, reservationId: row.id }))
            : [{ seatId: 0, reservationId: 0 }],
      })),
    call: (r, a: { holds: { seatId: number; reservationId: number }[] }) =>
      r.seats.releaseHeldBy(a.holds),
  }),
  probe({
    name: 'Lock the reservations being paid',
    purpose: 'POST /payments: the caller’s reservations, locked in id order',
    method: 'ReservationSqlRepository.lockOwned',
    pick: (sql) =>
      liveHold(sql).then((h) =>
        sql<{ id: number }[]>(
          `SELECT id FROM reservations WHERE user_id = ? AND status = 'HELD' LIMIT 4`,
          [h.user_id],
        ).then((rows) => ({ user_id: h.user_id, ids: rows.map((row) => row.id) })),
      ),
    call: (r, a: { user_id: string; ids: number[] }) => r.reservations.lockOwned(a.user_id, a.ids),
  }),
  probe({
    name: 'Confirm paid reservations',
    purpose: 'POST /payments',
    method: 'ReservationSqlRepository.markConfirmed',
    pick: (sql) => liveHold(sql).then((h) => ({ ids: [h.id] })),
    call: (r, a: { ids: number[] }) => r.reservations.markConfirmed(a.ids, 1),
  }),
  probe({
    name: 'Sell the seats of paid holds',
    purpose: 'POST /payments',
    method: 'SeatSqlRepository.sellHeldBy',
    pick: (sql) =>
      liveHold(sql).then((h) => ({ holds: [{ seatId: h.seat_id, reservationId: h.id }] })),
    call: (r, a: { holds: { seatId: number; reservationId: number }[] }) =>
      r.seats.sellHeldBy(a.holds),
  }),
  probe({
    name: 'Receipt lines of the paid seats',
    purpose: 'POST /payments: copy concert, schedule and seat into the payment items',
    method: 'SeatSqlRepository.findReceiptLines',
    pick: (sql) => liveHold(sql).then((h) => ({ seat_ids: [h.seat_id] })),
    call: (r, a: { seat_ids: number[] }) => r.seats.findReceiptLines(a.seat_ids),
  }),
  probe({
    name: 'Insert the payment',
    purpose: 'POST /payments',
    method: 'PaymentSqlRepository.insertCompleted',
    pick: typicalUser,
    call: (r, a: { user_id: string }) =>
      r.payments.insertCompleted({ userId: a.user_id, amount: 150000, paidAt: new Date() }),
  }),
  probe({
    name: 'Insert the payment items (unique per reservation)',
    purpose: 'POST /payments: the receipt; uq_payment_items_reservation fences a second sale',
    method: 'PaymentSqlRepository.insertItems',
    pick: (sql) =>
      liveHold(sql).then((h) =>
        one<Row>(
          sql,
          `SELECT rv.id AS reservation_id, c.id AS concert_id, c.title, cs.id AS schedule_id,
                  cs.starts_at, rv.seat_id, rv.seat_number, rv.price,
                  (SELECT MAX(id) FROM payments) AS payment_id
             FROM reservations rv JOIN concert_schedules cs ON cs.id = rv.schedule_id
             JOIN concerts c ON c.id = cs.concert_id
            WHERE rv.id = ?`,
          [h.id],
        ),
      ),
    call: (r, a: Row) =>
      r.payments.insertItems(Number(a.payment_id), [
        {
          reservationId: Number(a.reservation_id),
          concertId: Number(a.concert_id),
          concertTitle: String(a.title),
          scheduleId: Number(a.schedule_id),
          startsAt: a.starts_at as unknown as Date,
          seatId: Number(a.seat_id),
          seatNumber: Number(a.seat_number),
          price: Number(a.price),
        },
      ]),
  }),
  probe({
    name: "User's payments with their items",
    purpose: 'GET /users/{id}/payments',
    method: 'PaymentSqlRepository.findByUserNewestFirst',
    pick: typicalUser,
    call: (r, a: { user_id: string }) =>
      r.payments.findByUserNewestFirst(a.user_id, PAYMENT_LIST_LIMIT),
  }),
  probe({
    name: 'Idempotency key lookup (replay)',
    purpose: 'POST /payments and charges with Idempotency-Key',
    method: 'IdempotencyStore.find',
    pick: (sql) =>
      one<{ user_id: string; scope: string; idem_key: string }>(
        sql,
        `SELECT user_id, scope, idem_key FROM idempotency_keys
          WHERE scope = ? AND expires_at > ${NOW} ORDER BY id DESC LIMIT 1`,
        [PAYMENT_SCOPE],
      ),
    call: (r, a: { user_id: string; scope: string; idem_key: string }) =>
      r.idempotency.find(a.user_id, a.scope, a.idem_key),
  }),
  probe({
    name: 'Idempotency key claim',
    purpose: 'POST /payments and charges with a new Idempotency-Key',
    method: 'IdempotencyStore.claim',
    pick: typicalUser,
    call: (r, a: { user_id: string }) =>
      r.idempotency.claim(a.user_id, PAYMENT_SCOPE, `probe-${Date.now()}`, 'f'.repeat(64)),
  }),
  probe({
    name: 'Purge expired idempotency keys',
    purpose: 'purge job, every 10 minutes',
    method: 'IdempotencyStore.purgeExpired',
    note: 'Deletes up to `IDEMPOTENCY_PURGE_BATCH` rows per statement through `idx_idempotency_expires`, off the request path (every 10 minutes): the time is per batch.',
    pick: () => Promise.resolve({}),
    call: (r) => r.idempotency.purgeExpired(IDEMPOTENCY_PURGE_BATCH),
  }),
  probe({
    name: 'Debit or credit a wallet and write the ledger row',
    purpose: 'POST /payments, POST /users/{id}/cash/charges',
    method: 'CashWalletSqlRepository.applyIfAllowed',
    pick: typicalUser,
    call: (r, a: { user_id: string }) =>
      r.cash.applyIfAllowed(a.user_id, BalanceChange.charge(1000)),
  }),
  probe({
    name: 'Balance',
    purpose: 'GET /users/{id}/cash',
    method: 'CashWalletSqlRepository.findBalance',
    pick: typicalUser,
    call: (r, a: { user_id: string }) => r.cash.findBalance(a.user_id),
  }),
  probe({
    name: 'Cash history, first page',
    purpose: 'GET /users/{id}/cash/history',
    method: 'CashWalletSqlRepository.listHistory',
    pick: typicalUser,
    call: (r, a: { user_id: string }) => r.cash.listHistory(a.user_id, { limit: 20 }),
  }),
  probe({
    name: 'Cash history, next page (cursor)',
    purpose: 'GET /users/{id}/cash/history?cursor=',
    method: 'CashWalletSqlRepository.listHistory',
    pick: (sql) =>
      typicalUser(sql).then((u) =>
        one<{ user_id: string; before_id: number }>(
          sql,
          'SELECT user_id, MAX(id) AS before_id FROM cash_history WHERE user_id = ? GROUP BY user_id',
          [u.user_id],
        ),
      ),
    call: (r, a: { user_id: string; before_id: number }) =>
      r.cash.listHistory(a.user_id, { beforeId: a.before_id, limit: 20 }),
  }),
  probe({
    name: 'Users exist (batched)',
    purpose: 'every [user] request: the bearer token names a user (cached per instance once seen)',
    method: 'UserSqlRepository.findExistingIds',
    pick: typicalUser,
    call: (r, a: { user_id: string }) => r.users.findExistingIds([a.user_id]),
  }),
  probe({
    name: 'Credentials by email',
    purpose: 'POST /auth/tokens: the login (unique key on email_key)',
    method: 'UserSqlRepository.findCredentials',
    pick: typicalUser,
    call: (r) => r.users.findCredentials('nobody@example.test'),
  }),
];

/** Records each statement a repository sends, and runs it on the probe's query runner. */
class RecordingHost {
  readonly statements: { sql: string; params: unknown[] }[] = [];

  constructor(private readonly runner: QueryRunner) {}

  /** Probes run outside a transaction, as the service's reads on these paths do. */
  isTransactionActive(): boolean {
    return false;
  }

  get tx() {
    return {
      query: async (sql: string, params: unknown[] = []): Promise<unknown> => {
        this.statements.push({ sql, params });
        return this.runner.query(sql, params);
      },
    };
  }

  // No replicas here: the reads that may go to one run on the primary, as they do without any.
  get readsMayLag() {
    return this.tx;
  }

  get readsUpToDate() {
    return this.tx;
  }
}

function repositories(host: RecordingHost): Repositories {
  const tx = host as unknown as Host;
  return {
    concerts: new ConcertSqlRepository(tx),
    seats: new SeatSqlRepository(tx),
    reservations: new ReservationSqlRepository(tx),
    cash: new CashWalletSqlRepository(tx),
    users: new UserSqlRepository(tx),
    payments: new PaymentSqlRepository(tx),
    idempotency: new IdempotencyStore(tx),
  };
}

const EXPLAIN_COLUMNS = [
  'id',
  'select_type',
  'table',
  'type',
  'possible_keys',
  'key',
  'key_len',
  'ref',
  'rows',
  'filtered',
  'Extra',
];

function textTable(rows: Row[]): string {
  const columns = EXPLAIN_COLUMNS.filter((c) => rows.some((r) => c in r));
  const cells = rows.map((r) => columns.map((c) => (r[c] === null ? 'NULL' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join(' | ');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)].join(
    '\n',
  );
}

/** Tidies indentation for the listing (the statements are EXPLAINed exactly as sent). */
function display(sql: string): string {
  return sql
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n\s+/g, '\n  ')
    .trim();
}

const EXPLAINABLE = /^\s*(SELECT|UPDATE|DELETE|INSERT|REPLACE|WITH)\b/i;
const INSERT_VALUES = /^\s*INSERT\s+INTO\s+\w+\s*\([^)]*\)\s*VALUES\s*[(?]/i;

function judge(rows: Row[]): { access: string[]; scan?: 'table scan' | 'full index scan' } {
  let scan: 'table scan' | 'full index scan' | undefined;
  const access = rows.map((r) => {
    const table = String(r.table ?? '');
    const type = String(r.type ?? '');
    const estimate = Number(r.rows ?? 0);
    const real = table !== '' && !table.startsWith('<');
    if (real && estimate > SCAN_ROWS_THRESHOLD) {
      if (type === 'ALL') scan = 'table scan';
      else if (type === 'index' && scan === undefined) scan = 'full index scan';
    }
    return `${table || '-'}: ${type || '-'} ${r.key ?? '-'} ${r.rows ?? '-'}`;
  });
  return { access, scan };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export async function runProbes(
  dataSource: DataSource,
  probes: Probe<unknown>[],
  runs: number,
): Promise<ProbeResult[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const sql: Sql = async (query, params = []) => (await runner.query(query, params)) as never;
  const results: ProbeResult[] = [];
  try {
    for (const probe of probes) {
      const args = await probe.pick(sql);

      // One recorded call to learn the statements, then EXPLAIN each with its own parameters.
      const recorder = new RecordingHost(runner);
      await runner.startTransaction();
      try {
        await probe.call(repositories(recorder), args);
      } finally {
        await runner.rollbackTransaction();
      }
      const statements: ProbeResult['statements'] = [];
      const access: string[] = [];
      let scan: ProbeResult['verdict'] | undefined;
      for (const statement of recorder.statements) {
        if (!EXPLAINABLE.test(statement.sql)) continue;
        const plan = (await runner.query(`EXPLAIN ${statement.sql}`, statement.params)) as Row[];
        const judged = judge(plan);
        // An INSERT ... VALUES reads nothing; its plan line ("ALL") is not a scan.
        access.push(...(INSERT_VALUES.test(statement.sql) ? ['insert (values)'] : judged.access));
        scan ??= judged.scan;
        statements.push({ sql: display(statement.sql), explain: textTable(plan) });
      }

      // Timed calls: warm-up once, then `runs` times, each in a transaction rolled back so
      // writes leave the data set as it was.
      const times: number[] = [];
      const host = new RecordingHost(runner);
      const repos = repositories(host);
      for (let i = 0; i <= runs; i++) {
        await runner.startTransaction();
        try {
          const started = performance.now();
          await probe.call(repos, args);
          if (i > 0) times.push(performance.now() - started);
        } finally {
          await runner.rollbackTransaction();
        }
      }
      const medianMs = round(median(times));
      const maxMs = round(Math.max(...times));
      results.push({
        name: probe.name,
        purpose: probe.purpose,
        method: probe.method,
        statements,
        access,
        medianMs,
        maxMs,
        verdict: scan ?? (medianMs > SLOW_MS ? 'slow' : 'ok'),
        note: probe.note,
      });
    }
  } finally {
    await runner.release();
  }
  return results;
}

export interface Counterfactual {
  name: string;
  sql: string;
  explain: string;
  medianMs: number;
}

/**
 * What the indexes buy: two hot queries run once more with their index ignored, to show the scan
 * each would otherwise be (a few runs: they are slow by design).
 */
export async function runCounterfactuals(dataSource: DataSource): Promise<Counterfactual[]> {
  const cases = [
    {
      name: 'Expiry scan without idx_reservations_status_expires',
      sql: `SELECT id, seat_id FROM reservations IGNORE INDEX (idx_reservations_status_expires)
        WHERE status = 'HELD' AND expires_at <= ${NOW} ORDER BY expires_at LIMIT ${RELEASE_BATCH_SIZE}`,
    },
    {
      name: "User's live holds without idx_reservations_user_status_expires",
      sql: `SELECT COUNT(*) FROM reservations IGNORE INDEX (idx_reservations_user_status_expires)
        WHERE user_id = (SELECT user_id FROM reservations WHERE id = 1) AND status = 'HELD'
          AND expires_at > ${NOW}`,
    },
  ];
  const results: Counterfactual[] = [];
  for (const c of cases) {
    const plan = await dataSource.query<Row[]>(`EXPLAIN ${c.sql}`);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await dataSource.query(c.sql);
      times.push(performance.now() - started);
    }
    results.push({
      name: c.name,
      sql: display(c.sql),
      explain: textTable(plan),
      medianMs: round(median(times)),
    });
  }
  return results;
}
