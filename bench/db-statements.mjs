// MySQL work per request, for the capacity model (docs/scaling.md): statements, transactions and
// server CPU per hold, per payment, per seat-map read and per status poll, on one built instance.
//
// The server connects as a MySQL user of its own, and MariaDB's user statistics (`userstat`)
// count that user's statements and server CPU, so other clients of the same server (tests, other
// benches) do not leak into the figures. Background work (the admission job, the settings
// refresh, the outbox relay, the release job) is measured over an idle window first and
// subtracted per second of load.
//
// Usage: npm run build && node bench/db-statements.mjs [--requests 400]   (MariaDB only)
import { adminConnection, closeBenchDb, removeRedisKeys, roundTo, startServer } from './lib.mjs';
import {
  bookingPaths,
  counterMeter,
  headline,
  requestsOption,
  SERVER_ENV,
} from './per-request.mjs';

const REQUESTS = requestsOption(400);
const BENCH_USER = 'bench_statements';
const STAT_COLUMNS = [
  'SELECT_COMMANDS',
  'UPDATE_COMMANDS',
  'OTHER_COMMANDS',
  'COMMIT_TRANSACTIONS',
  'ROLLBACK_TRANSACTIONS',
  'CPU_TIME',
  'BUSY_TIME',
];

const root = await adminConnection();

async function prepareStatisticsUser() {
  const [[version]] = await root.query('SELECT VERSION() AS v');
  if (!/mariadb/i.test(version.v)) throw new Error('user statistics need MariaDB (userstat)');
  await root.query('SET GLOBAL userstat = ON');
  for (const host of ['localhost', '127.0.0.1']) {
    await root.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ''`, [BENCH_USER, host]);
    await root.query(`GRANT ALL ON *.* TO ?@?`, [BENCH_USER, host]);
  }
}

async function counters() {
  const [rows] = await root.query(
    `SELECT ${STAT_COLUMNS.join(', ')} FROM information_schema.USER_STATISTICS WHERE USER = ?`,
    [BENCH_USER],
  );
  const row = rows[0] ?? {};
  return Object.fromEntries(STAT_COLUMNS.map((c) => [c, Number(row[c] ?? 0)]));
}

function delta(after, before) {
  return Object.fromEntries(STAT_COLUMNS.map((c) => [c, after[c] - before[c]]));
}

const statements = (of) => of('SELECT_COMMANDS') + of('UPDATE_COMMANDS') + of('OTHER_COMMANDS');

await prepareStatisticsUser();
const prefix = `bench:statements:${Date.now()}:`;
const server = await startServer({
  port: Number(process.env.BENCH_PORT ?? 3111),
  env: { ...SERVER_ENV, DB_USER: BENCH_USER, DB_PASSWORD: '', REDIS_KEY_PREFIX: prefix },
});
try {
  const paths = await bookingPaths(server.url, {
    title: 'Statements bench',
    label: 'statements-bench',
    count: REQUESTS,
  });
  await paths.issue();
  await paths.admitted();
  const meter = counterMeter(counters, delta);
  const background = await meter.idle();

  const rows = [];
  const measure = async (name, work) => {
    // Let the outbox relay publish and mark what the load wrote: that is work per request too.
    const { answered, net } = await meter.perRequest(work, { settleMs: 1_500 });
    rows.push({
      name,
      requests: answered,
      statements: roundTo(statements(net)),
      selects: roundTo(net('SELECT_COMMANDS')),
      writes: roundTo(net('UPDATE_COMMANDS')),
      other: roundTo(net('OTHER_COMMANDS')),
      commits: roundTo(net('COMMIT_TRANSACTIONS')),
      serverCpuMs: roundTo(net('CPU_TIME') * 1000, 3),
    });
  };
  await measure('status poll', paths.poll);
  await measure('seat map read', paths.seatMap);
  await measure('hold', paths.hold);
  await measure('payment', () => paths.pay());
  console.log(
    headline('MySQL', REQUESTS) +
      `background ${roundTo(statements(background))} statements/s subtracted)`,
  );
  console.table(rows);
} finally {
  await server.stop();
  await root.end();
  await closeBenchDb();
  await removeRedisKeys(prefix);
}
