// Shared helpers for the autocannon benchmarks (plain ESM so they run without a build step).
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { SignJWT } from 'jose';
import mysql from 'mysql2/promise';
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// Both secrets must be at least 32 characters (the service refuses to start otherwise).
export const ADMIN_KEY = process.env.ADMIN_API_KEY ?? 'bench-admin-key-0123456789abcdef0123456789';
export const JWT_SECRET =
  process.env.AUTH_JWT_SECRET ?? 'bench-jwt-secret-0123456789abcdef0123456789abcdef';
export const JWT_ISSUER = process.env.AUTH_JWT_ISSUER ?? 'concert-booking';
export const JWT_AUDIENCE = process.env.AUTH_JWT_AUDIENCE ?? 'concert-booking-api';
export const BENCH_DB_NAME = process.env.BENCH_DB_NAME ?? 'concert_bench';
/** The build the servers run: this checkout, or another one (BENCH_APP_ROOT=/path/to/checkout). */
export const APP_ROOT = resolve(
  process.env.BENCH_APP_ROOT ?? fileURLToPath(new URL('..', import.meta.url)),
);

/**
 * What every bench server gets on top of the scenario's settings: the bench's own secrets, and
 * the per-user write limit and per-address sign-up limit off. A bench sends thousands of writes
 * per user-minute from one address, which those limits exist to refuse.
 */
export const AUTH_SERVER_ENV = {
  AUTH_JWT_SECRET: JWT_SECRET,
  RATE_LIMIT_USER_WRITES_PER_MINUTE: '0',
  AUTH_SIGNUPS_PER_HOUR: '0',
};

/**
 * Every fan ACTIVE at once (the waiting room is not what holds and payments measure), and tokens
 * and holds that outlive a scenario's setup and run.
 */
export const ADMIT_ALL_ENV = {
  QUEUE_MAX_ACTIVE_USERS: '1000000',
  QUEUE_ADMIT_PER_SECOND: '100000',
  QUEUE_ACTIVE_TTL_SECONDS: '3600',
  RESERVATION_HOLD_SECONDS: '900',
};

/**
 * A realistic line for the status-poll loads: a few ACTIVE, most WAITING (position lookups
 * included), and no token dropped as idle between two loads.
 */
export const POLL_LINE_ENV = {
  QUEUE_MAX_ACTIVE_USERS: '100',
  QUEUE_ADMIT_PER_SECOND: '100',
  QUEUE_WAITING_IDLE_SECONDS: '900',
};

// MySQL on this box is reached over its Unix socket when it has one (as a same-host deployment
// would be configured; BENCH_DB_SOCKET= forces loopback TCP). Printed with every result.
const DEFAULT_DB_SOCKET = '/run/mysqld/mysqld.sock';
export const DB_SOCKET =
  process.env.BENCH_DB_SOCKET ?? (existsSync(DEFAULT_DB_SOCKET) ? DEFAULT_DB_SOCKET : '');
export const DB_TRANSPORT = DB_SOCKET ? `Unix socket ${DB_SOCKET}` : 'TCP';

/**
 * Whether processes can be pinned to cores. BENCH_NO_PIN=1 says no even where taskset exists: on a
 * machine with a core per instance, pinning every instance to core 0 would hide their scaling.
 */
export function hasTaskset() {
  if (process.env.BENCH_NO_PIN === '1') return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where a load spends its CPU. */
export function benchNodeArgs() {
  return process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
}

/**
 * Starts `node dist/main.js` with the given env on a free port and waits for /health/ready.
 * With taskset available the server is pinned to `cpu` so the load generator gets the other core.
 */
export async function startServer({ port, env = {}, cpu, root = APP_ROOT } = {}) {
  const serverEnv = {
    ...process.env,
    ...AUTH_SERVER_ENV,
    PORT: String(port),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    DB_NAME: BENCH_DB_NAME,
    ...(DB_SOCKET ? { DB_SOCKET_PATH: DB_SOCKET } : {}),
    ...env,
  };
  return startNodeProcess({
    what: `server on ${port}`,
    nodeArgs: [...benchNodeArgs(), 'dist/main.js'],
    cwd: root,
    env: serverEnv,
    cpu,
    port,
    readyPath: '/health/ready',
  });
}

/**
 * Any bench server process (the service, a baseline): `node ...nodeArgs` listening on `port`,
 * pinned to `cpu` when taskset is there, its CPU counted in the `api` column, ready once
 * `readyPath` answers 2xx. Returns `{ url, child, stop }`.
 */
export async function startNodeProcess({ what, nodeArgs, cwd, env, cpu, port, readyPath }) {
  // `cpu: 'all'` unpins explicitly: a child inherits its parent's affinity, and the runner pins
  // itself (the load generator) to CPU 1.
  const pin = cpu !== undefined && hasTaskset();
  const cpuList = cpu === 'all' ? `0-${os.cpus().length - 1}` : String(cpu);
  const options = { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] };
  const child = pin
    ? spawn('taskset', ['-c', cpuList, 'node', ...nodeArgs], options)
    : spawn('node', nodeArgs, options);
  countAsApi(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.ok) return { url, child, stop: () => stopChild(child) };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not become ready`);
}

/**
 * Pins this process (the load generator) to CPU 1 so the servers, pinned to CPU 0, do not share
 * its core. False where it cannot (one core, no taskset).
 */
export function pinGeneratorToCpu1() {
  if (os.cpus().length < 2 || !hasTaskset()) return false;
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A scenario run on its own: one server on a fresh Redis key prefix (no line left over from an
 * earlier run, and its keys removed at the end), `run` against it, its rows printed as a table and
 * `after(rows, { pinned })` for what else the scenario prints. The server runs on CPU 0; with
 * `pinGenerator`, this process moves to CPU 1 as bench/run.mjs does (or neither is pinned).
 */
export async function runStandalone(name, { port, serverEnv = {}, pinGenerator, run, after }) {
  const pinned = pinGenerator ? pinGeneratorToCpu1() : false;
  const cpu = pinGenerator && !pinned ? undefined : 0;
  const prefix = `bench:${name}:${Date.now()}:`;
  const env = { ...serverEnv, REDIS_KEY_PREFIX: prefix };
  const server = await startServer({ port: Number(process.env.BENCH_PORT ?? port), cpu, env });
  try {
    const rows = await run({ url: server.url, serverEnv: env, serverCpu: cpu });
    printTable(rows);
    after?.(rows, { pinned });
  } finally {
    await server.stop();
    await closeBenchDb();
    await removeRedisKeys(prefix);
  }
}

// ---- Accounts -------------------------------------------------------------------------------
// Bench users are inserted straight into MySQL (a user row and an empty wallet, as a sign-up
// makes) and get access tokens minted with the bench's AUTH_JWT_SECRET: tens of thousands of
// sign-ups and logins through the API would spend minutes of argon2id before any load. The
// login itself is measured on its own (bench/auth.mjs).

const key = new TextEncoder().encode(JWT_SECRET);

/** An HS256 access token for `userId`, as POST /auth/tokens would issue it. */
export function mintAccessToken(userId, { ttl = '2h' } = {}) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(userId)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(key);
}

const DB_TCP = {
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 3306),
};
const DB_LOGIN = { user: process.env.DB_USER ?? 'root', password: process.env.DB_PASSWORD ?? '' };

/** A connection with no database chosen, over TCP: for statements about databases and users. */
export function adminConnection() {
  return mysql.createConnection({ ...DB_TCP, ...DB_LOGIN });
}

export async function dropDatabases(names) {
  const db = await adminConnection();
  try {
    for (const name of names) await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await db.end();
  }
}

const pools = new Map();

/** A MySQL pool on the bench database (or `database`), over the socket the servers use. */
export function benchDb(database = BENCH_DB_NAME) {
  let pool = pools.get(database);
  if (!pool) {
    pool = mysql.createPool({
      ...(DB_SOCKET ? { socketPath: DB_SOCKET } : DB_TCP),
      ...DB_LOGIN,
      database,
      timezone: 'Z',
      connectionLimit: 4,
    });
    pools.set(database, pool);
  }
  return pool;
}

/** Ends the pools benchDb opened, so a script can exit. */
export async function closeBenchDb() {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end()));
}

/**
 * `count` users inserted into MySQL (after a server has migrated the database), each with a
 * wallet holding `balance` (a CHARGE row in the ledger when > 0, so SUM(amount) = balance) and,
 * with `passwordHash`, a login `<label>-<i>@bench.invalid`. Returns
 * `[{ id, email, auth: { authorization } }]`, the bearer minted for each.
 */
export async function insertUsers(count, label, { balance = 0, passwordHash, database } = {}) {
  const db = benchDb(database);
  const stamp = Date.now().toString(36);
  const users = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const email = `${label.replace(/[^a-z0-9]+/gi, '-')}-${stamp}-${i}@bench.invalid`.toLowerCase();
    users.push({ id, name: `${label} ${i}`, email });
  }
  for (let start = 0; start < users.length; start += 1000) {
    const batch = users.slice(start, start + 1000);
    const rows = (fn) => batch.map(fn);
    await db.query(
      'INSERT INTO users (id, name, email, email_key, password_hash, created_at) VALUES ?',
      [
        rows((u) => [
          u.id,
          u.name,
          u.email,
          passwordHash ? u.email : null,
          passwordHash ?? null,
          new Date(),
        ]),
      ],
    );
    await db.query('INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES ?', [
      rows((u) => [u.id, balance, new Date()]),
    ]);
    if (balance > 0) {
      await db.query(
        'INSERT INTO cash_history (user_id, type, amount, balance_after, created_at) VALUES ?',
        [rows((u) => [u.id, 'CHARGE', balance, balance, new Date()])],
      );
    }
  }
  for (const user of users) {
    user.auth = { authorization: `Bearer ${await mintAccessToken(user.id)}` };
  }
  return users;
}

/** Deletes a standalone run's Redis keys (its fresh REDIS_KEY_PREFIX) when it is done. */
export async function removeRedisKeys(prefix) {
  if (!prefix) return;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    lazyConnect: true,
  });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A concert (no schedules) through the admin API; its id is what POST /queue/tokens names. */
export async function createConcert(url, title) {
  const concert = await expectStatus(
    () => api(url, 'POST', '/admin/concerts', { title }, { 'x-admin-key': ADMIN_KEY }),
    [201],
    'POST /admin/concerts',
  );
  return concert.body.id;
}

/** Each user's queue token for `concertId` (bearer, `{ concertId }`); setup, not measured. */
export async function issueQueueTokens(url, users, concertId) {
  return inBatches(users, 100, async (user) => {
    const issued = await expectStatus(
      () => api(url, 'POST', '/queue/tokens', { concertId }, user.auth),
      [200, 201],
      'POST /queue/tokens',
    );
    return issued.body.token;
  });
}

/** The concert's own waiting-room limits (admin API), over the servers' defaults. */
export async function setWaitingRoom(url, concertId, limits) {
  await expectStatus(
    () =>
      api(url, 'PUT', `/admin/concerts/${concertId}/waiting-room`, limits, {
        'x-admin-key': ADMIN_KEY,
      }),
    [200],
    'PUT waiting-room',
  );
}

/**
 * A line to poll: a concert (with `room`, its waiting-room limits), `count` users inserted as
 * `label` and a queue token for each, issued in order.
 */
export async function queueLine(url, { title, label, count, room, database }) {
  const concertId = await createConcert(url, title);
  if (room) await setWaitingRoom(url, concertId, room);
  const users = await insertUsers(count, label, { database });
  const tokens = await issueQueueTokens(url, users, concertId);
  return { concertId, users, tokens };
}

/** `count` users (wallets holding `balance`), each given its queue token for `concertId` as `.token`. */
export async function fansWithTokens(url, { count, label, concertId, balance }) {
  const users = await insertUsers(count, label, { balance });
  const tokens = await issueQueueTokens(url, users, concertId);
  return users.map((user, i) => Object.assign(user, { token: tokens[i] }));
}

/**
 * `seats` seats of a new concert (schedules of `seatsPerSchedule`) at `price`, and `fans` fans
 * (one per seat unless told) with that price in cash and ACTIVE queue tokens for the concert.
 */
export async function seatsAndFans(
  url,
  { title, label, seats, fans = seats, price, seatsPerSchedule = 500 },
) {
  const bookable = await createBookableSeats(url, { title, count: seats, seatsPerSchedule, price });
  const concertId = bookable.concertId;
  const crowd = await fansWithTokens(url, { count: fans, label, concertId, balance: price });
  await waitUntilActive(url, crowd.at(-1).token);
  return { seats: bookable, fans: crowd };
}

/** The admission job (each second, on every instance) lets a line in: waits for its last token. */
export async function waitUntilActive(url, token) {
  for (let attempt = 0; attempt < 150; attempt++) {
    const status = await api(url, 'GET', '/queue/status', undefined, { 'queue-token': token });
    if (status.body?.status === 'ACTIVE') return;
    await sleep(200);
  }
  throw new Error('fans were not admitted');
}

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** What a fan's hold or payment carries: its bearer and its queue token. */
export const fanHeaders = (fan) => ({ ...JSON_HEADERS, ...fan.auth, 'queue-token': fan.token });

/** autocannon requests: status polls cycling through `tokens` (a poll takes no bearer). */
export function pollRequests(tokens) {
  let next = 0;
  return [
    {
      method: 'GET',
      path: '/queue/status',
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, 'queue-token': tokens[next++ % tokens.length] },
      }),
    },
  ];
}

/**
 * autocannon requests: token issues for `concertId`, each by the next of `users` (cycling), a
 * newcomer's the first time round and a returning user's after; `onToken` sees each 201's token.
 */
export function tokenRequests(users, concertId, { onToken } = {}) {
  let next = 0;
  const body = JSON.stringify({ concertId });
  return [
    {
      method: 'POST',
      path: '/queue/tokens',
      body,
      setupRequest: (request) => ({
        ...request,
        headers: { ...JSON_HEADERS, ...users[next++ % users.length].auth },
      }),
      ...(onToken
        ? {
            onResponse: (status, responseBody) => {
              if (status === 201) onToken(JSON.parse(responseBody).token);
            },
          }
        : {}),
    },
  ];
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export async function api(url, method, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

// Set by bench/run.mjs --instances 3: a load aimed at the first instance is spread round-robin
// over all of them (autocannon takes a list of URLs and deals connections out in turn).
const TARGETS = process.env.BENCH_TARGETS ? process.env.BENCH_TARGETS.split(',') : undefined;

function fanOut(options) {
  const primary = TARGETS?.[0];
  if (!primary || typeof options.url !== 'string' || !options.url.startsWith(primary)) {
    return options;
  }
  const path = options.url.slice(primary.length);
  const connections = options.connections ?? 50;
  return {
    ...options,
    url: TARGETS.map((origin) => origin + path),
    connections: Math.ceil(connections / TARGETS.length) * TARGETS.length,
  };
}

// CPU time per role during a load, from /proc (Linux only): shows which process a scenario is
// bound by on a box where server, database, Redis and load generator share two cores.
const apiPids = new Set();

/** Counts a server process's CPU in the `api` column while it runs. */
export function countAsApi(child) {
  apiPids.add(child.pid);
  child.once('exit', () => apiPids.delete(child.pid));
}

function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return 0;
  }
}

function pidsOf(name) {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function cpuSnapshot() {
  const sum = (pids) => pids.reduce((total, pid) => total + processCpuSeconds(pid), 0);
  return {
    at: performance.now() / 1000,
    api: sum([...apiPids]),
    db: sum([...pidsOf('mariadbd'), ...pidsOf('mysqld')]),
    redis: sum(pidsOf('redis-server')),
    generator: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
}

/**
 * Waits until the servers are idle (under 10% of a core over 300 ms, at most `maxMs`): a load that
 * stops with slow requests in flight (logins) leaves the server working on them for seconds,
 * which would land in the next load's figures.
 */
export async function waitForIdleServers(maxMs = 15_000) {
  const started = performance.now();
  while (performance.now() - started < maxMs) {
    const before = [...apiPids].reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
    await sleep(300);
    const after = [...apiPids].reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
    if (after - before < 0.03) return;
  }
}

/**
 * Starts counting CPU per role; `stop(busySeconds)` gives each role's share of that wall time
 * (100 = one core). Pass the time to the last response so the idle tail does not dilute it.
 */
export function startCpuMeter() {
  const before = cpuSnapshot();
  return {
    startedAt: before.at,
    stop(busySeconds = performance.now() / 1000 - before.at) {
      const after = cpuSnapshot();
      const pct = (key) => Math.round((100 * (after[key] - before[key])) / busySeconds);
      return { api: pct('api'), db: pct('db'), redis: pct('redis'), generator: pct('generator') };
    },
  };
}

/**
 * Seconds from `startedAt` (performance.now() / 1000) to the last response of an autocannon
 * instance. autocannon notices the end of a fixed-amount load only on its one-second tick, so its
 * own duration and per-second average round such a load up to whole seconds: rates here are
 * completed requests over this time instead.
 */
export function busyClock(instance, startedAt) {
  let lastResponseAt = startedAt;
  instance.on('response', () => {
    lastResponseAt = performance.now() / 1000;
  });
  return () => lastResponseAt - startedAt;
}

/** Runs autocannon and returns a summary row: req/s, latency percentiles, statuses, CPU use. */
export async function load(name, options) {
  const statuses = {};
  const cpu = startCpuMeter();
  const instance = autocannon(fanOut({ connections: 50, duration: 10, ...options }));
  const busy = busyClock(instance, cpu.startedAt);
  instance.on('response', (_client, statusCode) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const busySeconds = busy();
  return {
    cpu: cpu.stop(busySeconds),
    name,
    requests: result.requests.total,
    rps: Math.round(result.requests.total / busySeconds),
    p50: result.latency.p50,
    p95: result.latency.p97_5 !== undefined ? percentile(result, 95) : undefined,
    p99: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

function percentile(result, p) {
  // autocannon reports p90/p97.5/p99; p95 is interpolated between p90 and p97.5.
  const { p90, p97_5 } = result.latency;
  return Math.round((p90 + ((p97_5 - p90) * (p - 90)) / 7.5) * 100) / 100;
}

/**
 * Sends each of `prepared` (`{ headers, body }`) once, a POST to `path` on `url`, `connections`
 * at a time, and keeps every latency: a fixed-size load's percentiles from the answers themselves.
 */
export async function postEach(url, path, prepared, { connections = 50 } = {}) {
  let next = 0;
  const latencies = [];
  const statuses = {};
  const cpuMeter = startCpuMeter();
  const instance = autocannon({
    url,
    connections,
    amount: prepared.length,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { headers, body } = prepared[next++ % prepared.length];
          return { ...request, path, headers, body };
        },
      },
    ],
  });
  const busy = busyClock(instance, cpuMeter.startedAt);
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const seconds = busy();
  return {
    seconds,
    latencies,
    statuses,
    errors: result.errors + result.timeouts,
    cpu: cpuMeter.stop(seconds),
  };
}

export const roundTo = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The nearest-rank percentile `p` of ascending `sorted` (0 when empty). */
export function nearestRank(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** p50/p95/p99 in ms (2 decimals) of latencies a bench collected itself. */
export function latencyPercentiles(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p) => roundTo(nearestRank(sorted, p));
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** µs of API (server process) CPU per request: a load row's API CPU % of a core over its rate. */
export const apiCpuUs = (row) => (row.cpu && row.rps ? (row.cpu.api / 100) * (1e6 / row.rps) : 0);

/** How many answers of `statuses` ({ code: count }) have a code `matches` accepts. */
export function statusCount(statuses, matches) {
  return Object.entries(statuses)
    .filter(([code]) => matches(Number(code)))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** The per-load columns of every results table (console and docs) after the load's name. */
export const LOAD_COLUMNS = ['req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses', 'errors'];

/** A row's CPU use per role, `api/db/redis/generator` (empty for a row without its own). */
export const cpuCell = (row) =>
  row.cpu ? `${row.cpu.api}/${row.cpu.db}/${row.cpu.redis}/${row.cpu.generator}` : '';

/** The commit a checkout is at and whether its src/ differs from it (read-only git), or undefined. */
export function gitBuild(root) {
  const git = (...gitArgs) =>
    execFileSync('git', ['-C', root, ...gitArgs], {
      encoding: 'utf8',
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    try {
      git('diff', '--quiet', 'HEAD', '--', 'src');
      return { commit, dirty: false };
    } catch {
      return { commit, dirty: true };
    }
  } catch {
    return undefined;
  }
}

export function printTable(rows) {
  const header = ['scenario', ...LOAD_COLUMNS, 'cpu% api/db/redis/gen'];
  const lines = rows.map((r) => [
    r.name,
    String(r.rps),
    String(r.p50),
    String(r.p95),
    String(r.p99),
    Object.entries(r.statuses)
      .map(([code, count]) => `${code}:${count}`)
      .join(' '),
    String(r.errors),
    cpuCell(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

/** Calls `fn(item, index)` on every item, `width` at a time (setup calls, not measured). */
export async function inBatches(items, width, fn) {
  const out = [];
  for (let start = 0; start < items.length; start += width) {
    const batch = items.slice(start, start + width);
    out.push(...(await Promise.all(batch.map((item, i) => fn(item, start + i)))));
  }
  return out;
}

/** Retries a setup call the overload guard shed (503 + Retry-After) while the box was busy. */
export async function expectStatus(call, expected, what) {
  for (let attempt = 0; attempt < 30; attempt++) {
    const response = await call();
    if (expected.includes(response.status)) return response;
    if (response.status !== 503) {
      throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    await sleep(200);
  }
  throw new Error(`${what} kept answering 503`);
}

/**
 * A concert with open-for-booking schedules of `seatsPerSchedule` seats, enough for `count` seats;
 * returns every seat as { scheduleId, seatId } (the array's `concertId` is the concert's id).
 */
export async function createBookableSeats(url, { title, count, seatsPerSchedule, price }) {
  const admin = { 'x-admin-key': ADMIN_KEY };
  const concertId = await createConcert(url, title);
  const now = Date.now();
  const seats = [];
  for (let s = 0; s * seatsPerSchedule < count; s++) {
    const body = {
      startsAt: new Date(now + 30 * 86_400_000 + s * 3_600_000).toISOString(),
      bookingOpensAt: new Date(now - 3_600_000).toISOString(),
      bookingClosesAt: new Date(now + 20 * 86_400_000).toISOString(),
      seatCount: seatsPerSchedule,
      ...(price === undefined ? {} : { price }),
    };
    const schedule = await expectStatus(
      () => api(url, 'POST', `/admin/concerts/${concertId}/schedules`, body, admin),
      [201],
      'POST schedule',
    );
    for (const seat of schedule.body.seats) {
      seats.push({ scheduleId: schedule.body.id, seatId: seat.id });
    }
  }
  seats.concertId = concertId;
  return seats;
}
