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
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { closeBenchDb, roundTo, startServer } from './lib.mjs';
import {
  bookingPaths,
  counterMeter,
  headline,
  requestsOption,
  SERVER_ENV,
} from './per-request.mjs';

const run = promisify(execFile);
const REQUESTS = requestsOption(300);
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

// ---- One topology ---------------------------------------------------------------------------

async function measureTopology(label, { masters, cluster }) {
  const redis = await startRedis({ masters, cluster });
  const clients = redis.ports.map((port) => new Redis({ host: '127.0.0.1', port }));
  const env = cluster
    ? { REDIS_CLUSTER_NODES: redis.ports.map((port) => `127.0.0.1:${port}`).join(',') }
    : { REDIS_URL: `redis://127.0.0.1:${redis.ports[0]}/0` };
  const server = await startServer({
    port: Number(process.env.BENCH_PORT ?? 3112),
    env: { ...SERVER_ENV, ...env, REDIS_KEY_PREFIX: 'bench:ops:' },
  });
  try {
    const paths = await bookingPaths(server.url, {
      title: `Redis ops bench (${label})`,
      label: `redis-ops-${label}`,
      count: REQUESTS,
    });
    const meter = counterMeter(() => commandStats(clients), minus);
    const background = await meter.idle();

    const rows = [];
    const measure = async (name, work) => {
      const { answered, used, net } = await meter.perRequest(work);
      rows.push({
        topology: label,
        path: name,
        requests: answered,
        commands: roundTo(net('commands')),
        scripts: roundTo(net('scripts')),
        redisCpuUs: roundTo(net('usec'), 1),
        // One room's keys share a slot, so its traffic lands on one master.
        busiestMaster: `${Math.round((100 * Math.max(...used.perNode)) / used.commands)}%`,
      });
    };
    await measure('token issue', paths.issue);
    // Everyone ACTIVE before the rest is measured (the admission job runs twice a second).
    await paths.admitted();
    await measure('status poll', paths.poll);
    await measure('hold', paths.hold);
    await measure('payment', () => paths.pay({ idempotencyKeys: true }));
    return {
      rows,
      background: `${roundTo(background('commands'), 1)} commands/s (${label})`,
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
    headline('Redis', REQUESTS) +
      `background subtracted: ${single.background}, ${cluster.background})`,
  );
  console.table([...single.rows, ...cluster.rows]);
} finally {
  await closeBenchDb();
}
