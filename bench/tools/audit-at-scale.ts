import 'reflect-metadata';
import { createConnection } from 'mysql2/promise';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { databaseConfig, DatabaseConfig } from '../../src/common/config/configuration';
import { dataSourceOptions } from '../../src/common/database/data-source-options';
import { TransactionHost } from '../../src/common/database/transaction';
import { AuditReport, PublishedAudit } from '../../src/modules/audit/domain/audit-report';
import { AuditResultStore } from '../../src/modules/audit/domain/audit-result.store';
import { AUDIT_RULES, AuditRule, RuleFinding } from '../../src/modules/audit/domain/audit-rule';
import { RuleQueryLimits } from '../../src/modules/audit/domain/invariant-audit.repository';
import { InvariantAuditService } from '../../src/modules/audit/domain/invariant-audit.service';
import {
  auditStatement,
  InvariantAuditSqlRepository,
} from '../../src/modules/audit/infrastructure/invariant-audit.sql-repository';
import { scaleSizes, seedIfNeeded } from './index-at-scale';

/**
 * The audit at scale (`npm run bench:audit`): on the data set of `npm run bench:indexes` (100,000
 * users, 1,000,000 reservations; built here if missing), runs the audit exactly as the service
 * does (one read-only snapshot, the same statements and time limit) a few times and reports the
 * time of the whole and of each rule, the EXPLAIN of each statement, and how long single-row
 * writes took while it read (they must not wait for it). Prints a Markdown section for
 * docs/benchmarks.md.
 *
 *   npm run bench:audit -- [--db concert_scale] [--users 100000]
 *     [--reservations 1000000] [--reseed] [--runs 5] [--time-limit-ms 30000]
 */

/** The production repository, timing each rule's statement as the audit sends it. */
class TimedAuditRepository extends InvariantAuditSqlRepository {
  readonly timings = new Map<AuditRule, number[]>();

  override async findViolations(
    rule: AuditRule,
    now: Date,
    limits: RuleQueryLimits,
  ): Promise<RuleFinding> {
    const started = performance.now();
    try {
      return await super.findViolations(rule, now, limits);
    } finally {
      const list = this.timings.get(rule) ?? [];
      list.push(performance.now() - started);
      this.timings.set(rule, list);
    }
  }
}

/** The scale script publishes nothing. */
class NoResultStore extends AuditResultStore {
  claimPeriod(): Promise<boolean> {
    return Promise.resolve(true);
  }
  publish(): Promise<void> {
    return Promise.resolve();
  }
  latest(): Promise<PublishedAudit | null> {
    return Promise.resolve(null);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
};
const ms = (value: number) => (value >= 100 ? Math.round(value) : Math.round(value * 10) / 10);

/**
 * Single-row writes of the kind the service makes (a wallet row updated in its own transaction),
 * back to back on a connection of their own until `until` resolves; returns each one's latency.
 */
async function writeWhile(config: DatabaseConfig, until: Promise<unknown>): Promise<number[]> {
  const db = await createConnection({
    host: config.host,
    port: config.port,
    socketPath: config.socketPath,
    user: config.user,
    password: config.password,
    database: config.name,
  });
  try {
    const [rows] = await db.query('SELECT user_id FROM cash_wallets ORDER BY user_id LIMIT 1000');
    const users = (rows as { user_id: string }[]).map((row) => row.user_id);
    let done = false;
    void until.finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    for (let i = 0; !done; i += 1) {
      const started = performance.now();
      await db.query('START TRANSACTION');
      await db.query('SELECT balance FROM cash_wallets WHERE user_id = ? FOR UPDATE', [
        users[i % users.length],
      ]);
      await db.query('UPDATE cash_wallets SET updated_at = UTC_TIMESTAMP(3) WHERE user_id = ?', [
        users[i % users.length],
      ]);
      await db.query('COMMIT');
      latencies.push(performance.now() - started);
    }
    return latencies;
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: 'concert_scale' },
      users: { type: 'string', default: '100000' },
      reservations: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '5' },
      'time-limit-ms': { type: 'string', default: '30000' },
      reseed: { type: 'boolean', default: false },
    },
  });
  if (!/^[A-Za-z0-9_]{1,64}$/.test(values.db)) throw new Error('--db must match [A-Za-z0-9_]+');
  const config: DatabaseConfig = { ...databaseConfig(), name: values.db, poolSize: 2 };
  const sizes = scaleSizes(Number(values.users), Number(values.reservations));
  const runs = Number(values.runs);
  const timeLimitMs = Number(values['time-limit-ms']);

  const seed = await seedIfNeeded(config, sizes, values.reseed);
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  const lines: string[] = [];
  try {
    const txHost = new TransactionHost(dataSource);
    const repository = new TimedAuditRepository(txHost);
    const service = new InvariantAuditService(repository, new NoResultStore());
    const audit = () => txHost.withReadOnlySnapshot(() => service.check(timeLimitMs));

    // Warm-up: the first read of a cold buffer pool is reported on its own.
    const coldStarted = performance.now();
    const cold = await audit();
    const coldMs = performance.now() - coldStarted;
    repository.timings.clear();

    const idleWrites = await writeWhile(
      config,
      new Promise((resolve) => setTimeout(resolve, 3000)),
    );
    const totals: number[] = [];
    const duringWrites: number[] = [];
    let last: AuditReport = cold;
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      const running = audit();
      const [report, writes] = await Promise.all([running, writeWhile(config, running)]);
      totals.push(performance.now() - started);
      duringWrites.push(...writes);
      last = report;
    }

    const [{ version }] = await dataSource.query<{ version: string }[]>(
      'SELECT VERSION() AS version',
    );
    const [{ pool }] = await dataSource.query<{ pool: number | string }[]>(
      'SELECT @@innodb_buffer_pool_size AS pool',
    );
    lines.push(
      `Measured on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} with ` +
        `\`npm run bench:audit -- --runs ${runs}\` against ${version} ` +
        `(buffer pool ${Math.round(Number(pool) / 2 ** 20)} MiB) on ` +
        `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores), ` +
        `database \`${config.name}\`: ${Object.entries(seed.counts)
          .filter(([, n]) => n > 0)
          .map(([table, n]) => `${table} ${n.toLocaleString('en-US')}`)
          .join(', ')}.`,
      '',
    );
    if (!seed.reused) {
      const total = seed.steps.reduce((sum, step) => sum + step.seconds, 0);
      lines.push(`The data set was built in this run, in ${Math.round(total)} s.`, '');
    }
    lines.push(
      `| | median ms | max ms |`,
      '| --- | ---: | ---: |',
      `| whole audit (one snapshot, ${AUDIT_RULES.length} statements), first run on a cold cache | ${ms(coldMs)} | |`,
      `| whole audit, ${runs} runs after it | ${ms(median(totals))} | ${ms(Math.max(...totals))} |`,
      ...AUDIT_RULES.map((rule) => {
        const times = repository.timings.get(rule) ?? [];
        return `| \`${rule}\` | ${ms(median(times))} | ${ms(Math.max(...times))} |`;
      }),
      '',
      `Single-row wallet writes (\`SELECT ... FOR UPDATE\` + \`UPDATE\` + \`COMMIT\`) on another ` +
        `connection: idle p50 ${ms(percentile(idleWrites, 50))} ms, p99 ` +
        `${ms(percentile(idleWrites, 99))} ms, max ${ms(Math.max(...idleWrites))} ms ` +
        `(${idleWrites.length} writes); while the audit read p50 ` +
        `${ms(percentile(duringWrites, 50))} ms, p99 ${ms(percentile(duringWrites, 99))} ms, max ` +
        `${ms(Math.max(...duringWrites))} ms (${duringWrites.length} writes).`,
      '',
      `What the last run found on this data: ${
        last.violations.length === 0
          ? 'nothing'
          : last.violations
              .map((v) => `\`${v.rule}\` ${v.count.toLocaleString('en-US')}`)
              .join(', ')
      }${last.complete ? '' : `; unchecked: ${last.unchecked.join(', ')}`}.`,
      '',
    );
    const now = new Date();
    for (const rule of AUDIT_RULES) {
      const { sql, params } = auditStatement(rule, now, 5);
      const plan = await dataSource.query<Record<string, string | number | null>[]>(
        `EXPLAIN ${sql}`,
        params,
      );
      lines.push(
        `\`${rule}\`:`,
        '',
        '```text',
        ...plan.map((row) =>
          ['select_type', 'table', 'type', 'key', 'rows', 'Extra']
            .map((column) => `${column}=${String(row[column] ?? '')}`)
            .join(' '),
        ),
        '```',
        '',
      );
    }
  } finally {
    await dataSource.destroy();
  }
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
