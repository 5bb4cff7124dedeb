// The status poll of two builds on the same box, in alternating runs: old, new, old, new, ... with
// the same connections and duration each, and the ratio new ÷ old per pair. Raw req/s on this
// shared 2-core machine drift by ±30% within minutes; a pair run back to back drifts much less,
// and several pairs show whether a difference is more than noise.
//
//   npm run build && node bench/compare-poll.mjs --old /tmp/before-auth
//       [--new .] [--pairs 4] [--duration 10] [--connections 50] [--users 1000] [--json out.json]
//
// `--old` and `--new` are checkouts with a built dist/ (`npm ci && npm run build` there); `--new`
// defaults to this one. Both servers run at once, each pinned to CPU 0 (this generator on CPU 1)
// when taskset is available, each with its own database (concert_bench_poll_old / _new, dropped
// first and at the end) and Redis key prefix, each with the same realistic line as the runner's
// poll comparison (1,000 users, 100 ACTIVE, the rest WAITING). Builds from before accounts (no
// dist/modules/auth) get their users and tokens through the v1 API (`POST /users {name}`,
// `POST /queue/tokens {userId}`); later ones through the bench's inserted users and minted
// bearers (`{ concertId }`). A poll takes only the Queue-Token in both.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  api,
  apiCpuUs,
  APP_ROOT,
  closeBenchDb,
  dropDatabases,
  expectStatus,
  gitBuild,
  inBatches,
  load,
  median,
  pinGeneratorToCpu1,
  POLL_LINE_ENV,
  pollRequests,
  printTable,
  queueLine,
  startServer,
  removeRedisKeys,
  roundTo,
} from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    old: { type: 'string' },
    new: { type: 'string', default: APP_ROOT },
    pairs: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    users: { type: 'string', default: '1000' },
    json: { type: 'string' },
  },
});
if (!args.old) throw new Error('--old /path/to/the/other/checkout is required');
const pairs = Number(args.pairs);
const duration = Number(args.duration);
const connections = Number(args.connections);
const users = Number(args.users);
if (pairs < 1 || duration < 1 || duration > 30) {
  throw new Error('--pairs ≥ 1 and --duration 1..30');
}

const pinned = pinGeneratorToCpu1();
const SERVER_CPU = pinned ? 0 : undefined;
const RUN_PREFIX = `bench:cmp:${Date.now()}:`;

function describe(root) {
  const build = gitBuild(root);
  if (!build) return 'unknown';
  return `${build.commit}${build.dirty ? ' + uncommitted src/' : ''}`;
}

/** Tokens for a line of `count` users, through whichever API the build speaks. */
async function prepareTokens(side, count) {
  if (side.v2) {
    const line = await queueLine(side.url, {
      title: 'Poll comparison',
      label: `poll-cmp-${side.label}`,
      count,
      database: side.db,
    });
    return line.tokens;
  }
  const indexes = Array.from({ length: count }, (_, i) => i);
  return inBatches(indexes, 100, async (i) => {
    const user = await expectStatus(
      () => api(side.url, 'POST', '/users', { name: `poll-cmp ${i}` }),
      [201],
      'POST /users (v1)',
    );
    const issued = await expectStatus(
      () => api(side.url, 'POST', '/queue/tokens', { userId: user.body.id }),
      [200, 201],
      'POST /queue/tokens (v1)',
    );
    return issued.body.token;
  });
}

function pollLoad(side, name, seconds) {
  return load(name, {
    url: side.url,
    connections,
    duration: seconds,
    requests: pollRequests(side.tokens),
  });
}

const r3 = (value) => roundTo(value, 3);
/** API CPU per poll, µs: the load's API CPU % over its rate. */
const cpuUs = (row) => Math.round(apiCpuUs(row));

async function main() {
  const sides = [
    { label: 'old', root: resolve(args.old), port: 3171 },
    { label: 'new', root: resolve(args.new), port: 3172 },
  ].map((side) => ({
    ...side,
    db: `concert_bench_poll_${side.label}`,
    v2: existsSync(join(side.root, 'dist/modules/auth')),
    build: describe(side.root),
  }));
  for (const side of sides) {
    if (!existsSync(join(side.root, 'dist/main.js'))) {
      throw new Error(`${side.root} has no dist/main.js: npm ci && npm run build there first`);
    }
  }
  await dropDatabases(sides.map((s) => s.db));
  const servers = [];
  try {
    for (const side of sides) {
      const server = await startServer({
        port: side.port,
        cpu: SERVER_CPU,
        root: side.root,
        env: {
          ...POLL_LINE_ENV,
          DB_NAME: side.db,
          REDIS_KEY_PREFIX: `${RUN_PREFIX}${side.label}:`,
        },
      });
      servers.push(server);
      side.url = server.url;
      console.error(`[compare-poll] ${side.label}: ${side.root} (${side.build}) on ${side.url}`);
      side.tokens = await prepareTokens(side, users);
    }
    await sleep(2000); // the admission jobs let their first 100 in: the same mixed line on both
    for (const side of sides) await pollLoad(side, 'warm-up', 3);

    const rows = [];
    const ratios = [];
    for (let pair = 1; pair <= pairs; pair++) {
      const oldRow = await pollLoad(sides[0], `pair ${pair}: old (${sides[0].build})`, duration);
      const newRow = await pollLoad(sides[1], `pair ${pair}: new (${sides[1].build})`, duration);
      rows.push(oldRow, newRow);
      ratios.push({
        pair,
        rps: r3(newRow.rps / oldRow.rps),
        p99: r3(newRow.p99 / oldRow.p99),
        cpuPerPoll: r3(cpuUs(newRow) / cpuUs(oldRow)),
        old: { rps: oldRow.rps, p99: oldRow.p99, cpuUs: cpuUs(oldRow) },
        new: { rps: newRow.rps, p99: newRow.p99, cpuUs: cpuUs(newRow) },
      });
      console.error(
        `[compare-poll] pair ${pair}: new/old req/s ${ratios.at(-1).rps}, p99 ${ratios.at(-1).p99}`,
      );
    }

    printTable(rows);
    console.log('');
    console.log('pair  new÷old req/s  new÷old p99  new÷old API CPU µs per poll');
    for (const r of ratios) {
      console.log(
        `${String(r.pair).padEnd(4)}  ${String(r.rps).padEnd(13)}  ${String(r.p99).padEnd(11)}  ` +
          `${r.cpuPerPoll} (${r.new.cpuUs} vs ${r.old.cpuUs})`,
      );
    }
    const summary = {
      rps: r3(median(ratios.map((r) => r.rps))),
      p99: r3(median(ratios.map((r) => r.p99))),
      cpuPerPoll: r3(median(ratios.map((r) => r.cpuPerPoll))),
    };
    console.log(
      `median  ${summary.rps}  ${summary.p99}  ${summary.cpuPerPoll}   ` +
        `(${pairs} pairs, ${connections} connections, ${duration} s each; ` +
        `${pinned ? 'servers on CPU 0, generator on CPU 1' : 'not pinned'}; ` +
        `load average ${os.loadavg()[0].toFixed(2)} at the end)`,
    );
    if (args.json) {
      await writeFile(
        args.json,
        `${JSON.stringify(
          {
            generatedAt: new Date().toISOString(),
            node: process.version,
            pinned,
            connections,
            durationSeconds: duration,
            users,
            old: { root: sides[0].root, build: sides[0].build },
            new: { root: sides[1].root, build: sides[1].build },
            pairs: ratios,
            median: summary,
          },
          null,
          2,
        )}\n`,
      );
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await closeBenchDb();
    await removeRedisKeys(RUN_PREFIX);
    await dropDatabases(sides.map((s) => s.db));
  }
}

await main();
