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
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import {
  api,
  BENCH_DB_NAME,
  closeBenchDb,
  createBookableSeats,
  DB_SOCKET,
  inBatches,
  insertUsers,
  issueQueueTokens,
  removeRedisKeys,
  startServer,
} from './lib.mjs';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '400' } },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = 10;
const IDLE_WINDOW_MS = 4_000;
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

const root = await mysql.createConnection({
  ...(DB_SOCKET
    ? { socketPath: DB_SOCKET }
    : { host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 3306) }),
  user: process.env.DB_USER ?? 'root',
  password: process.env.DB_PASSWORD ?? '',
});

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

/** What the load cost MySQL, with the background rate of the idle window taken out. */
async function measure(name, background, work) {
  const before = await counters();
  const started = performance.now();
  const answered = await work();
  // Let the outbox relay publish and mark what the load wrote: that is work per request too.
  await sleep(1_500);
  const seconds = (performance.now() - started) / 1000;
  const used = delta(await counters(), before);
  const net = Object.fromEntries(
    STAT_COLUMNS.map((c) => [c, Math.max(0, used[c] - background[c] * seconds)]),
  );
  const statements = net.SELECT_COMMANDS + net.UPDATE_COMMANDS + net.OTHER_COMMANDS;
  return {
    name,
    requests: answered,
    statements: round(statements / answered),
    selects: round(net.SELECT_COMMANDS / answered),
    writes: round(net.UPDATE_COMMANDS / answered),
    other: round(net.OTHER_COMMANDS / answered),
    commits: round(net.COMMIT_TRANSACTIONS / answered),
    serverCpuMs: round((net.CPU_TIME * 1000) / answered, 3),
  };
}

function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function expectAll(items, call, expected, what) {
  const statuses = await inBatches(items, CONCURRENCY, async (item) => (await call(item)).status);
  const wrong = statuses.filter((s) => !expected.includes(s));
  if (wrong.length > 0)
    throw new Error(`${what}: ${wrong.length} answers not ${expected}: ${wrong[0]}`);
  return statuses.length;
}

await prepareStatisticsUser();
const prefix = `bench:statements:${Date.now()}:`;
const server = await startServer({
  port: Number(process.env.BENCH_PORT ?? 3111),
  env: {
    DB_USER: BENCH_USER,
    DB_PASSWORD: '',
    REDIS_KEY_PREFIX: prefix,
    QUEUE_MAX_ACTIVE_USERS: '1000000',
    QUEUE_ADMIT_PER_SECOND: '100000',
    QUEUE_ACTIVE_TTL_SECONDS: '3600',
    RESERVATION_HOLD_SECONDS: '900',
    EVENTS_AMQP_URL: process.env.EVENTS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  },
});
try {
  const seats = await createBookableSeats(server.url, {
    title: 'Statements bench',
    count: REQUESTS,
    seatsPerSchedule: 500,
    price: 1000,
  });
  const fans = await insertUsers(REQUESTS, 'statements-bench', { balance: 100_000 });
  const tokens = await issueQueueTokens(server.url, fans, seats.concertId);
  fans.forEach((fan, i) => (fan.headers = { ...fan.auth, 'queue-token': tokens[i] }));
  // Everyone ACTIVE before anything is measured.
  for (let i = 0; i < 100; i++) {
    const last = await api(server.url, 'GET', '/queue/status', undefined, fans.at(-1).headers);
    if (last.body?.status === 'ACTIVE') break;
    await sleep(200);
  }

  const idleBefore = await counters();
  await sleep(IDLE_WINDOW_MS);
  const background = Object.fromEntries(
    Object.entries(delta(await counters(), idleBefore)).map(([c, v]) => [
      c,
      v / (IDLE_WINDOW_MS / 1000),
    ]),
  );

  const rows = [];
  rows.push(
    await measure('status poll', background, () =>
      expectAll(
        fans,
        (fan) => api(server.url, 'GET', '/queue/status', undefined, fan.headers),
        [200],
        'poll',
      ),
    ),
  );
  const scheduleId = seats[0].scheduleId;
  rows.push(
    await measure('seat map read', background, () =>
      expectAll(
        fans,
        (fan) =>
          api(
            server.url,
            'GET',
            `/concerts/${seats.concertId}/schedules/${scheduleId}/seats`,
            undefined,
            fan.headers,
          ),
        [200],
        'seat map',
      ),
    ),
  );
  const reservations = new Array(fans.length);
  rows.push(
    await measure('hold', background, () =>
      expectAll(
        fans.map((fan, i) => ({ fan, i })),
        async ({ fan, i }) => {
          const held = await api(server.url, 'POST', '/reservations', seats[i], fan.headers);
          reservations[i] = held.body?.id;
          return held;
        },
        [201],
        'hold',
      ),
    ),
  );
  rows.push(
    await measure('payment', background, () =>
      expectAll(
        fans.map((fan, i) => ({ fan, i })),
        ({ fan, i }) =>
          api(server.url, 'POST', '/payments', { reservationIds: [reservations[i]] }, fan.headers),
        [201],
        'payment',
      ),
    ),
  );
  console.log(
    `MySQL work per request (${REQUESTS} requests each, ${CONCURRENCY} in flight, database ${BENCH_DB_NAME}; ` +
      `background ${round(background.SELECT_COMMANDS + background.UPDATE_COMMANDS + background.OTHER_COMMANDS)} statements/s subtracted)`,
  );
  console.table(rows);
} finally {
  await server.stop();
  await root.end();
  await closeBenchDb();
  await removeRedisKeys(prefix);
}
