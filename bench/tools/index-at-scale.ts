import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createConnection, Connection } from 'mysql2/promise';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { databaseConfig, DatabaseConfig } from '../../src/common/config/configuration';
import { dataSourceOptions } from '../../src/common/database/data-source-options';
import { prepareDatabase } from '../../src/common/database/prepare-database';
import { IDEMPOTENCY_RETENTION_HOURS } from '../../src/common/idempotency/idempotency.constants';
import { CHARGE_SCOPE } from '../../src/modules/cash/application/cash.facade';
import { PAYMENT_SCOPE } from '../../src/modules/payment/application/payment.facade';
import { Counterfactual, PROBES, ProbeResult, runCounterfactuals, runProbes } from './index-probes';

/**
 * Indexes at scale (`npm run bench:indexes`): fills a separate database with 100,000 users and
 * 1,000,000 reservations (and the concerts, schedules, seats, payments, ledger and idempotency keys
 * they imply) using set-based INSERT ... SELECT over a generated sequence, then runs EXPLAIN and
 * times every hot-path query through the real repositories, and writes docs/indexes.md.
 *
 *   npm run bench:indexes -- [--db concert_scale] [--users 100000]
 *     [--reservations 1000000] [--reseed] [--runs 30] [--no-docs]
 *
 * The data is reused when already there (--reseed rebuilds it). Same MySQL as the service
 * (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD); MySQL 8 and MariaDB 10.11 alike.
 */

const logger = new Logger('IndexAtScale');
// Compiled to dist/bench-tools/bench/tools/ (bench/tools/tsconfig.json).
const REPO_ROOT = join(__dirname, '..', '..', '..', '..');

export interface Sizes {
  users: number;
  reservations: number;
  concerts: number;
  schedulesPerConcert: number;
  seatsPerSchedule: number;
  /** The most recent reservations are live holds, a few of them already past their expiry. */
  heldNow: number;
  idempotencyKeys: number;
}

export interface SeedReport {
  reused: boolean;
  steps: { step: string; seconds: number }[];
  counts: Record<string, number>;
}

const HOLD_SECONDS = 300;
const INITIAL_CHARGE = 10_000_000;
const CHUNK = 250_000;

/** A UUID-shaped, well-spread, reproducible user id for sequence number `n` (an SQL expression). */
function userIdSql(n: string): string {
  const h = `MD5(CONCAT('scale-user-', ${n}))`;
  return `CONCAT(SUBSTR(${h}, 1, 8), '-', SUBSTR(${h}, 9, 4), '-4', SUBSTR(${h}, 13, 3), '-8',
    SUBSTR(${h}, 16, 3), '-', SUBSTR(${h}, 19, 12))`;
}

class Seeder {
  readonly steps: { step: string; seconds: number }[] = [];

  constructor(
    private readonly db: Connection,
    private readonly sizes: Sizes,
  ) {}

  private async step(name: string, statements: string[]): Promise<void> {
    const started = performance.now();
    for (const sql of statements) await this.db.query(sql);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    this.steps.push({ step: name, seconds });
    logger.log(`${name}: ${seconds} s`);
  }

  /** Runs `build(from, to)` over 1..total in chunks: bounded transactions and undo logs. */
  private chunks(total: number, build: (from: number, to: number) => string): string[] {
    const statements: string[] = [];
    for (let from = 1; from <= total; from += CHUNK) {
      statements.push(build(from, Math.min(total, from + CHUNK - 1)));
    }
    return statements;
  }

  async seed(): Promise<void> {
    const s = this.sizes;
    const schedules = s.concerts * s.schedulesPerConcert;
    const seats = schedules * s.seatsPerSchedule;
    const span = Math.max(s.users, s.reservations, seats, s.idempotencyKeys);
    const r = s.reservations;
    const liveFrom = r - s.heldNow + 1;

    await this.db.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
    // One instant for the whole data set, so "now" in the rows is consistent.
    await this.db.query('SET @now = UTC_TIMESTAMP(3)');

    // 1..span from a cross join of digits: portable (MySQL caps recursive CTEs at 1,000 levels).
    const digits = Math.ceil(Math.log10(span + 1));
    const joins = Array.from({ length: digits }, (_, i) => `scale_digits d${i}`).join(
      ' CROSS JOIN ',
    );
    const value = Array.from({ length: digits }, (_, i) => `d${i}.d * ${10 ** i}`).join(' + ');
    await this.step('sequence', [
      'DROP TABLE IF EXISTS scale_seq',
      'DROP TABLE IF EXISTS scale_digits',
      'CREATE TABLE scale_digits (d INT NOT NULL PRIMARY KEY)',
      'INSERT INTO scale_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)',
      'CREATE TABLE scale_seq (n INT NOT NULL PRIMARY KEY)',
      `INSERT INTO scale_seq (n) SELECT ${value} + 1 FROM ${joins} WHERE ${value} < ${span}`,
    ]);

    await this.step(`users (${s.users})`, [
      `INSERT INTO users (id, name, created_at)
       SELECT ${userIdSql('n')}, CONCAT('Scale user ', n), @now - INTERVAL 200 DAY + INTERVAL n SECOND
         FROM scale_seq WHERE n <= ${s.users}`,
    ]);

    // Schedules spread over a year around now; the ones starting 1..30 days ahead are on sale.
    await this.step(`concerts (${s.concerts}), schedules (${schedules}), seats (${seats})`, [
      `INSERT INTO concerts (id, title, performer, created_at)
       SELECT n, CONCAT('Scale concert ', n), CONCAT('Performer ', n MOD 37), @now - INTERVAL 300 DAY
         FROM scale_seq WHERE n <= ${s.concerts}`,
      `INSERT INTO concert_schedules
         (id, concert_id, starts_at, booking_opens_at, booking_closes_at, total_seats, created_at)
       SELECT n, 1 + (n - 1) DIV ${s.schedulesPerConcert},
              @now + INTERVAL ((n * 7) MOD 360) - 180 DAY,
              @now + INTERVAL ((n * 7) MOD 360) - 210 DAY,
              @now + INTERVAL ((n * 7) MOD 360) - 181 DAY,
              ${s.seatsPerSchedule}, @now - INTERVAL 250 DAY
         FROM scale_seq WHERE n <= ${schedules}`,
      ...this.chunks(
        seats,
        (from, to) => `INSERT INTO seats (id, schedule_id, number, price, status, updated_at)
         SELECT n, 1 + (n - 1) DIV ${s.seatsPerSchedule}, 1 + (n - 1) MOD ${s.seatsPerSchedule},
                CASE WHEN (n - 1) MOD ${s.seatsPerSchedule} < 50 THEN 150000
                     WHEN (n - 1) MOD ${s.seatsPerSchedule} < 200 THEN 110000 ELSE 80000 END,
                'AVAILABLE', @now - INTERVAL 250 DAY
           FROM scale_seq WHERE n BETWEEN ${from} AND ${to}`,
      ),
    ]);

    // Reservation n sits on seat ((n × 7919) mod seats) + 1: a bijection while reservations ≤
    // seats, so live reservations never share a seat. The newest `heldNow` are HELD with holds
    // taken over the last 5.5 minutes (about a tenth already past expiry: the expiry job's
    // backlog); of the rest 27% CONFIRMED, 11% CANCELLED, 62% EXPIRED, one every 6 s back in time.
    const status = `CASE WHEN n >= ${liveFrom} THEN 'HELD'
      WHEN n MOD 100 < 27 THEN 'CONFIRMED' WHEN n MOD 100 < 38 THEN 'CANCELLED' ELSE 'EXPIRED' END`;
    const createdAt = `CASE WHEN n >= ${liveFrom}
      THEN @now - INTERVAL ((${r} - n) * ${HOLD_SECONDS + 30} DIV ${s.heldNow}) SECOND
      ELSE @now - INTERVAL ((${r} - n) * 6 + ${HOLD_SECONDS + 30}) SECOND END`;
    await this.step(`reservations (${r})`, [
      ...this.chunks(
        r,
        (
          from,
          to,
        ) => `INSERT INTO reservations (id, user_id, schedule_id, seat_id, seat_number, price,
            status, expires_at, payment_id, created_at, updated_at)
         SELECT x.n, ${userIdSql(`1 + (x.n MOD ${s.users})`)}, st.schedule_id, st.id, st.number,
                st.price, x.status, x.created_at + INTERVAL ${HOLD_SECONDS} SECOND,
                IF(x.status = 'CONFIRMED', x.n, NULL), x.created_at, x.created_at
           FROM (SELECT n, ${status} AS status, ${createdAt} AS created_at,
                        ((n * 7919) MOD ${seats}) + 1 AS seat_id
                   FROM scale_seq WHERE n BETWEEN ${from} AND ${to}) x
           JOIN seats st ON st.id = x.seat_id`,
      ),
    ]);

    await this.step('seats of live reservations (HELD / SOLD)', [
      `UPDATE seats st JOIN reservations rv ON rv.live_seat_id = st.id
          SET st.status = IF(rv.status = 'CONFIRMED', 'SOLD', 'HELD'),
              st.reservation_id = rv.id,
              st.hold_expires_at = IF(rv.status = 'HELD', rv.expires_at, NULL),
              st.updated_at = rv.updated_at`,
    ]);

    // One payment per confirmed reservation, with the id of the reservation.
    await this.step('payments and payment items', [
      `INSERT INTO payments (id, user_id, amount, status, paid_at, created_at)
       SELECT id, user_id, price, 'COMPLETED', created_at + INTERVAL 60 SECOND,
              created_at + INTERVAL 60 SECOND
         FROM reservations WHERE status = 'CONFIRMED'`,
      `INSERT INTO payment_items (payment_id, reservation_id, concert_id, concert_title, schedule_id,
          starts_at, seat_id, seat_number, price)
       SELECT rv.id, rv.id, c.id, c.title, cs.id, cs.starts_at, rv.seat_id, rv.seat_number, rv.price
         FROM reservations rv
         JOIN concert_schedules cs ON cs.id = rv.schedule_id
         JOIN concerts c ON c.id = cs.concert_id
        WHERE rv.status = 'CONFIRMED'
        ORDER BY rv.id`,
    ]);

    // The ledger: one opening charge per user, then each payment; balance_after is the running
    // balance (window function), and the wallet equals the sum of the user's history.
    await this.step('cash history and wallets', [
      `INSERT INTO cash_history (user_id, type, amount, balance_after, payment_id, created_at)
       SELECT id, 'CHARGE', ${INITIAL_CHARGE}, ${INITIAL_CHARGE}, NULL, created_at
         FROM users ORDER BY created_at`,
      `INSERT INTO cash_history (user_id, type, amount, balance_after, payment_id, created_at)
       SELECT user_id, 'PAYMENT', -amount,
              ${INITIAL_CHARGE} - SUM(amount) OVER (PARTITION BY user_id ORDER BY id),
              id, paid_at
         FROM payments ORDER BY id`,
      `INSERT INTO cash_wallets (user_id, balance, updated_at)
       SELECT user_id, SUM(amount), MAX(created_at) FROM cash_history GROUP BY user_id`,
    ]);

    // Keys of the last 24 h plus the quarter hour since the purge job's last run (~1% expired).
    const keyAge = `((${s.idempotencyKeys} - n) * ${IDEMPOTENCY_RETENTION_HOURS * 3600 + 900} DIV ${s.idempotencyKeys})`;
    await this.step(`idempotency keys (${s.idempotencyKeys})`, [
      `INSERT INTO idempotency_keys (user_id, scope, idem_key, request_fingerprint, response_status,
          response_body, created_at, expires_at)
       SELECT ${userIdSql(`1 + (n MOD ${s.users})`)}, IF(n MOD 2 = 0, '${PAYMENT_SCOPE}', '${CHARGE_SCOPE}'),
              CONCAT('scale-key-', n), SHA2(CONCAT('body-', n), 256), 201, '{}',
              @now - INTERVAL ${keyAge} SECOND,
              @now - INTERVAL ${keyAge} SECOND + INTERVAL ${IDEMPOTENCY_RETENTION_HOURS} HOUR
         FROM scale_seq WHERE n <= ${s.idempotencyKeys}`,
    ]);

    await this.step('analyze tables, drop the sequence', [
      'SET SESSION foreign_key_checks = 1, unique_checks = 1',
      `ANALYZE TABLE users, concerts, concert_schedules, seats, reservations, payments,
         payment_items, cash_history, cash_wallets, idempotency_keys`,
      'DROP TABLE scale_seq',
      'DROP TABLE scale_digits',
    ]);
  }
}

/**
 * Holds are minutes long: on a reused data set the live holds are moved back to "taken over the
 * last 5.5 minutes", so the expiry scan sees the usual small backlog, not every hold lapsed.
 */
async function refreshLiveHolds(db: Connection, heldNow: number): Promise<void> {
  await db.query('SET @now = UTC_TIMESTAMP(3)');
  await db.query(`SELECT MAX(id) INTO @max FROM reservations`);
  const offset = `INTERVAL ((@max - id) * ${HOLD_SECONDS + 30} DIV ${heldNow}) SECOND`;
  await db.query(
    `UPDATE reservations
        SET created_at = @now - ${offset},
            updated_at = @now - ${offset},
            expires_at = @now - ${offset} + INTERVAL ${HOLD_SECONDS} SECOND
      WHERE status = 'HELD'`,
  );
  await db.query(
    `UPDATE seats st JOIN reservations rv ON rv.live_seat_id = st.id AND rv.status = 'HELD'
        SET st.hold_expires_at = rv.expires_at`,
  );
}

async function tableCounts(db: Connection): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    'users',
    'concerts',
    'concert_schedules',
    'seats',
    'reservations',
    'payments',
    'payment_items',
    'cash_history',
    'cash_wallets',
    'idempotency_keys',
  ]) {
    const [rows] = await db.query(`SELECT COUNT(*) AS n FROM ${table}`);
    counts[table] = Number((rows as { n: number }[])[0].n);
  }
  return counts;
}

export async function seedIfNeeded(
  config: DatabaseConfig,
  sizes: Sizes,
  reseed: boolean,
): Promise<SeedReport> {
  const admin = await createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
  });
  try {
    if (reseed) await admin.query(`DROP DATABASE IF EXISTS \`${config.name}\``);
  } finally {
    await admin.end();
  }
  // Creates the database if missing and applies every migration of the service.
  await prepareDatabase(config, logger);

  const db = await createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.name,
    multipleStatements: false,
  });
  try {
    const before = await tableCounts(db);
    if (before.reservations >= sizes.reservations && before.users >= sizes.users) {
      logger.log(`reusing ${config.name}: ${JSON.stringify(before)} (--reseed to rebuild)`);
      await refreshLiveHolds(db, sizes.heldNow);
      return { reused: true, steps: [], counts: before };
    }
    if (before.users > 0 || before.reservations > 0) {
      throw new Error(`${config.name} holds partial data; run again with --reseed`);
    }
    const seeder = new Seeder(db, sizes);
    await seeder.seed();
    // Seeding takes minutes: re-base the holds on the clock at which the queries will run.
    await refreshLiveHolds(db, sizes.heldNow);
    return { reused: false, steps: seeder.steps, counts: await tableCounts(db) };
  } finally {
    await db.end();
  }
}

async function serverVersion(dataSource: DataSource): Promise<string> {
  const rows = await dataSource.query<{ v: string }[]>('SELECT VERSION() AS v');
  return rows[0].v;
}

function markdown(
  seed: SeedReport,
  results: ProbeResult[],
  counterfactuals: Counterfactual[],
  meta: {
    db: string;
    version: string;
    runs: number;
    totalSeconds: number;
    heldNow: number;
    reservationsPerUser: number;
  },
): string {
  const lines: string[] = [];
  const scans = results.filter((r) => r.verdict !== 'ok');
  lines.push(
    '# Indexes at scale',
    '',
    '<!-- Generated by `npm run bench:indexes` (bench/tools/index-at-scale.ts); do not edit by hand. -->',
    '',
    `Generated on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} against ${meta.version} ` +
      `on ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores), database ` +
      `\`${meta.db}\`. Each query ran ${meta.runs} times after one warm-up run; the figures are ` +
      'the median and the worst of those runs, measured from this process (network round trip ' +
      'included). The machine is shared with other work: treat single figures as noisy.',
    '',
    '## Data',
    '',
    '| table | rows |',
    '| --- | ---: |',
    ...Object.entries(seed.counts).map(
      ([table, n]) => `| \`${table}\` | ${n.toLocaleString('en-US')} |`,
    ),
    '',
  );
  if (seed.reused) {
    lines.push('The data set was already in place (built by an earlier run of the script).', '');
  } else {
    const total = seed.steps.reduce((sum, s) => sum + s.seconds, 0);
    lines.push(
      `Built in ${Math.round(total)} s with set-based \`INSERT ... SELECT\` over a generated sequence:`,
      '',
      '| step | seconds |',
      '| --- | ---: |',
      ...seed.steps.map((s) => `| ${s.step} | ${s.seconds} |`),
      '',
    );
  }
  lines.push(
    `Reservations: the newest ${meta.heldNow.toLocaleString('en-US')} are live holds taken over the last 5.5 minutes (about a tenth ` +
      'past expiry, the expiry job’s backlog); of the others 27% are CONFIRMED (one payment each), ' +
      `11% CANCELLED and 62% EXPIRED. Users have ${meta.reservationsPerUser} reservations each on average.`,
    '',
    '## Summary',
    '',
    `Target: no query scans a table, each answers in under 10 ms. ${
      scans.length === 0
        ? 'Met by every query below.'
        : `**${scans.length} quer${scans.length === 1 ? 'y misses' : 'ies miss'} it** (see the notes).`
    }`,
    '',
    '| query | repository method | access (table: type key rows) | median ms | max ms | verdict |',
    '| --- | --- | --- | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.name} | \`${r.method}\` | ${r.access.join('<br>')} | ${r.medianMs} | ${r.maxMs} | ${
          r.verdict === 'ok' ? 'ok' : `**${r.verdict}**`
        } |`,
    ),
    '',
  );
  const notes = results.filter((r) => r.note);
  if (notes.length > 0) {
    lines.push('## Notes', '', ...notes.map((r) => `- **${r.name}**: ${r.note}`), '');
  }
  lines.push(
    '## Without the indexes',
    '',
    'For scale, two of the queries above with their index ignored (`IGNORE INDEX`), so the ' +
      'difference the index makes is measured on the same data. (The original project’s expiry ' +
      'scan took 10.27 s on 10M rows before it had the right index, 31 ms after.)',
    '',
    '| query | median ms |',
    '| --- | ---: |',
    ...counterfactuals.map((c) => `| ${c.name} | ${c.medianMs} |`),
    '',
  );
  for (const c of counterfactuals) {
    lines.push(`### ${c.name}`, '', '```sql', c.sql, '```', '', '```text', c.explain, '```', '');
  }
  lines.push('## EXPLAIN output', '');
  for (const r of results) {
    lines.push(`### ${r.name}`, '', `\`${r.method}\` — ${r.purpose}`, '');
    for (const statement of r.statements) {
      lines.push('```sql', statement.sql, '```', '', '```text', statement.explain, '```', '');
    }
  }
  lines.push(`Whole run: ${Math.round(meta.totalSeconds)} s.`, '');
  return lines.join('\n');
}

/** The data set's shape for `users` users and `reservations` reservations. */
export function scaleSizes(users: number, reservations: number): Sizes {
  const sizes: Sizes = {
    users,
    reservations,
    concerts: 100,
    schedulesPerConcert: 20,
    seatsPerSchedule: 500,
    heldNow: Math.min(20_000, Math.floor(reservations / 50)),
    idempotencyKeys: 200_000,
  };
  if (sizes.reservations > sizes.concerts * sizes.schedulesPerConcert * sizes.seatsPerSchedule) {
    throw new Error(
      'at most one reservation per seat: raise the schedules or lower --reservations',
    );
  }
  return sizes;
}

async function main(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: 'concert_scale' },
      users: { type: 'string', default: '100000' },
      reservations: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '30' },
      reseed: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const sizes = scaleSizes(Number(values.users), Number(values.reservations));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(values.db)) throw new Error('--db must match [A-Za-z0-9_]+');
  const config: DatabaseConfig = { ...databaseConfig(), name: values.db, poolSize: 2 };

  const seed = await seedIfNeeded(config, sizes, values.reseed);
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  try {
    const runs = Number(values.runs);
    const results = await runProbes(dataSource, PROBES, runs);
    const counterfactuals = await runCounterfactuals(dataSource);
    for (const r of results) {
      console.log(
        `${r.verdict === 'ok' ? 'ok  ' : 'MISS'}  ${r.name.padEnd(44)} median ${String(r.medianMs).padStart(7)} ms  max ${String(r.maxMs).padStart(7)} ms  ${r.access.join('; ')}`,
      );
    }
    if (!values['no-docs']) {
      const path = join(REPO_ROOT, 'docs', 'indexes.md');
      for (const c of counterfactuals) console.log(`      ${c.name}: median ${c.medianMs} ms`);
      const text = markdown(seed, results, counterfactuals, {
        db: config.name,
        version: await serverVersion(dataSource),
        runs,
        totalSeconds: (performance.now() - started) / 1000,
        heldNow: sizes.heldNow,
        reservationsPerUser: Math.round(sizes.reservations / sizes.users),
      });
      // Formatted like every other doc, so `npm run lint` (prettier --check) stays green.
      const prettier = await import('prettier');
      const options = (await prettier.resolveConfig(path)) ?? {};
      writeFileSync(path, await prettier.format(text, { ...options, filepath: path }));
      console.log(`wrote ${path}`);
    }
  } finally {
    await dataSource.destroy();
  }
}

// Also imported by audit-at-scale.ts for the same data set; only run when started itself.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
