// Redis work per request, for the capacity model (docs/scaling.md) and the Redis Cluster's cost:
// commands, scripts and Redis CPU per status poll, token issue, hold and payment, on one built
// instance against a single Redis and against a 3-master Redis Cluster (REDIS_CLUSTER_NODES).
//
// Both Redis topologies are private to the run (redis-server on free loopback ports, no
// persistence), so nothing else on the box is counted. The figures are read from
// `INFO commandstats`, summed over every master; a command a Lua script calls is counted there
// too, so "commands" includes the scripts' own calls and "scripts" counts EVALSHA/EVAL alone.
// Background work (the admission job, the settings refresh, the Cluster client's slot refresh) is
// measured over an idle window first and subtracted per second of load.
//
// Usage: npm run build && node bench/redis-ops.mjs [--requests 300]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import Redis from 'ioredis';
import {
  api,
  BENCH_DB_NAME,
  closeBenchDb,
  createBookableSeats,
  inBatches,
  insertUsers,
  startServer,
} from './lib.mjs';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '300' } },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = 10;
const IDLE_WINDOW_MS = 4_000;
/** Our own INFO calls are not the service's work. */
const IGNORED = new Set(['info']);

// ---- Private Redis servers ----------------------------------------------------------------

async function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(taken) {
  for (;;) {
    // The cluster bus takes port + 10000: both below 65536 and off the ephemeral range's start.
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

async function waitUntil(probe, what) {
  for (let i = 0; i < 300; i++) {
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready`);
}

const cli = async (port, ...command) =>
  (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command])).stdout;

/** `masters` redis-servers (cluster mode when `cluster`), stopped by the returned stop(). */
async function startRedis({ masters, cluster }) {
  const ports = [];
  const children = [];
  const dirs = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort(ports);
      ports.push(port);
      const dir = await mkdtemp(join(tmpdir(), `bench-redis-${port}-`));
      dirs.push(dir);
      const flags = [
        ['--port', String(port)],
        ['--bind', '127.0.0.1'],
        ['--dir', dir],
        ['--save', ''],
        ['--appendonly', 'no'],
        ...(cluster
          ? [
              ['--cluster-enabled', 'yes'],
              ['--cluster-config-file', join(dir, 'nodes.conf')],
            ]
          : []),
      ].flat();
      children.push(spawn('redis-server', flags, { stdio: 'ignore' }));
    }
    for (const port of ports) {
      await waitUntil(async () => /PONG/.test(await cli(port, 'PING')), `redis ${port}`);
    }
    if (cluster) {
      const nodes = ports.map((port) => `127.0.0.1:${port}`);
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      for (const port of ports) {
        await waitUntil(
          async () =>
            new RegExp(`cluster_state:ok[\\s\\S]*cluster_known_nodes:${masters}\\b`).test(
              await cli(port, 'CLUSTER', 'INFO'),
            ),
          `cluster node ${port}`,
        );
      }
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- Counting -------------------------------------------------------------------------------

/** calls and usec, summed over the given servers, and the commands of each server. */
async function commandStats(clients) {
  const total = { commands: 0, scripts: 0, usec: 0, perNode: [] };
  for (const client of clients) {
    const info = await client.info('commandstats');
    let onNode = 0;
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const [, name, calls, usec] = match;
      if (IGNORED.has(name)) continue;
      onNode += Number(calls);
      total.usec += Number(usec);
      if (name === 'evalsha' || name === 'eval') total.scripts += Number(calls);
    }
    total.commands += onNode;
    total.perNode.push(onNode);
  }
  return total;
}

const minus = (a, b) => ({
  commands: a.commands - b.commands,
  scripts: a.scripts - b.scripts,
  usec: a.usec - b.usec,
  perNode: a.perNode.map((n, i) => n - b.perNode[i]),
});

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

// ---- One topology ---------------------------------------------------------------------------

async function measureTopology(label, { masters, cluster }) {
  const redis = await startRedis({ masters, cluster });
  const clients = redis.ports.map((port) => new Redis({ host: '127.0.0.1', port }));
  const env = cluster
    ? { REDIS_CLUSTER_NODES: redis.ports.map((port) => `127.0.0.1:${port}`).join(',') }
    : { REDIS_URL: `redis://127.0.0.1:${redis.ports[0]}/0` };
  const server = await startServer({
    port: Number(process.env.BENCH_PORT ?? 3112),
    env: {
      ...env,
      REDIS_KEY_PREFIX: 'bench:ops:',
      QUEUE_MAX_ACTIVE_USERS: '1000000',
      QUEUE_ADMIT_PER_SECOND: '100000',
      QUEUE_ACTIVE_TTL_SECONDS: '3600',
      RESERVATION_HOLD_SECONDS: '900',
      EVENTS_AMQP_URL: process.env.EVENTS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    },
  });
  try {
    const seats = await createBookableSeats(server.url, {
      title: `Redis ops bench (${label})`,
      count: REQUESTS,
      seatsPerSchedule: 500,
      price: 1000,
    });
    const fans = await insertUsers(REQUESTS, `redis-ops-${label}`, { balance: 100_000 });

    const idleBefore = await commandStats(clients);
    await sleep(IDLE_WINDOW_MS);
    const idle = minus(await commandStats(clients), idleBefore);
    const perSecond = (k) => idle[k] / (IDLE_WINDOW_MS / 1000);

    const rows = [];
    const measure = async (name, work) => {
      const before = await commandStats(clients);
      const started = performance.now();
      const answered = await work();
      const seconds = (performance.now() - started) / 1000;
      const used = minus(await commandStats(clients), before);
      const net = (k) => Math.max(0, used[k] - perSecond(k) * seconds) / answered;
      rows.push({
        topology: label,
        path: name,
        requests: answered,
        commands: round(net('commands')),
        scripts: round(net('scripts')),
        redisCpuUs: round(net('usec'), 1),
        // One room's keys share a slot, so its traffic lands on one master.
        busiestMaster: `${Math.round((100 * Math.max(...used.perNode)) / used.commands)}%`,
      });
    };

    const tokens = new Array(fans.length);
    await measure('token issue', () =>
      expectAll(
        fans.map((fan, i) => ({ fan, i })),
        async ({ fan, i }) => {
          const issued = await api(
            server.url,
            'POST',
            '/queue/tokens',
            { concertId: seats.concertId },
            fan.auth,
          );
          tokens[i] = issued.body?.token;
          return issued;
        },
        [200, 201],
        'token issue',
      ),
    );
    fans.forEach((fan, i) => (fan.headers = { ...fan.auth, 'queue-token': tokens[i] }));
    // Everyone ACTIVE before the rest is measured (the admission job runs twice a second).
    for (let i = 0; i < 100; i++) {
      const last = await api(server.url, 'GET', '/queue/status', undefined, fans.at(-1).headers);
      if (last.body?.status === 'ACTIVE') break;
      await sleep(200);
    }
    await measure('status poll', () =>
      expectAll(
        fans,
        (fan) => api(server.url, 'GET', '/queue/status', undefined, fan.headers),
        [200],
        'poll',
      ),
    );
    const reservations = new Array(fans.length);
    await measure('hold', () =>
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
    );
    await measure('payment', () =>
      expectAll(
        fans.map((fan, i) => ({ fan, i })),
        ({ fan, i }) =>
          api(
            server.url,
            'POST',
            '/payments',
            { reservationIds: [reservations[i]] },
            { ...fan.headers, 'idempotency-key': `pay-${i}` },
          ),
        [201],
        'payment',
      ),
    );
    return {
      rows,
      background: `${round(perSecond('commands'), 1)} commands/s (${label})`,
    };
  } finally {
    await server.stop();
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await redis.stop();
  }
}

try {
  const single = await measureTopology('single', { masters: 1, cluster: false });
  const cluster = await measureTopology('cluster', { masters: 3, cluster: true });
  console.log(
    `Redis work per request (${REQUESTS} requests each, ${CONCURRENCY} in flight, database ${BENCH_DB_NAME}; ` +
      `background subtracted: ${single.background}, ${cluster.background})`,
  );
  console.table([...single.rows, ...cluster.rows]);
} finally {
  await closeBenchDb();
}
