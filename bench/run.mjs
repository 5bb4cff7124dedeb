// `npm run bench`: every benchmark scenario in one run, against one built instance (default) or
// three behind a round-robin list (`--instances 3`), plus the bare baseline for the status poll,
// plus an overload run at about twice the measured capacity. Prints one table, writes
// docs/benchmarks/latest.json, renders docs/benchmarks/chart.svg and regenerates the results
// section of docs/benchmarks.md. See bench/README.md.
//
//   node bench/run.mjs [--instances 1|3] [--duration 10] [--only queue,reserve] [--no-overload]
//                      [--no-docs] [--keep-db] [--render-only]
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { renderChart } from './chart.mjs';
import { nginxBinary, startFrontProxy, UPSTREAM_MAX_CONNS } from './front-proxy.mjs';
import { summaryLines as authSummaryLines } from './auth.mjs';
import { summaryLines as eventsSummaryLines } from './events.mjs';
import { summaryLines as sseSummaryLines } from './sse.mjs';
import {
  P99_FACTOR,
  PATHS as PHYSICAL_PATHS,
  run as runPhysical,
  summaryTable as physicalTable,
} from './physical.mjs';
import {
  adminConnection,
  APP_ROOT,
  BENCH_DB_NAME,
  closeBenchDb,
  cpuCell,
  DB_TRANSPORT,
  dropDatabases,
  gitBuild,
  load,
  LOAD_COLUMNS,
  pinGeneratorToCpu1,
  POLL_LINE_ENV,
  pollRequests,
  printTable,
  queueLine,
  startNodeProcess,
  startServer,
  statusCount,
  removeRedisKeys,
} from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = ['queue', 'reserve', 'pay', 'charge', 'auth', 'events', 'sse'];

// Targets from issue 6 for this 2-core machine, one instance, generator on the same box.
const TARGETS = {
  pollRps: 8000,
  pollBaselineRatio: 0.6,
  issueRps: 5000,
  holdRps: 1500,
  payRps: 800,
  queueP99Ms: 30,
  payP99Ms: 100,
};

// Queue settings for the scenarios unless a scenario module exports its own `serverEnv`: every
// bench user must become ACTIVE at once, or holds and payments would measure the waiting room.
const SCENARIO_SERVER_ENV = { QUEUE_MAX_ACTIVE_USERS: '1000000', QUEUE_ADMIT_PER_SECOND: '100000' };
// The status-poll comparison and the overload run use a realistic line (POLL_LINE_ENV).
const POLL_USERS = 1000;
// "Never hangs": no answer under overload may take longer than this.
const OVERLOAD_MAX_LATENCY_MS = 2000;

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    only: { type: 'string' },
    'no-overload': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    // Reuse the bench database as an earlier run left it instead of starting from an empty one.
    'keep-db': { type: 'boolean', default: false },
    // Re-judge and re-render docs/benchmarks.md and the chart from latest.json, without measuring.
    'render-only': { type: 'boolean', default: false },
    // The physical baselines (bench/physical.mjs): alternating pairs per path, and each load's
    // length in seconds (the issue, hold and payment loads are a fixed number of requests).
    'physical-pairs': { type: 'string', default: '5' },
    'physical-duration': { type: 'string', default: '5' },
    'no-physical': { type: 'boolean', default: false },
  },
});
const instances = Number(args.instances);
if (![1, 3].includes(instances)) throw new Error('--instances must be 1 or 3');
const duration = Number(args.duration);
const only = args.only ? args.only.split(',') : SCENARIOS;
// `--only physical` (alone or with scenarios) runs the physical comparison; no --only runs it too.
const withPhysical = !args['no-physical'] && (!args.only || only.includes('physical'));

// Servers on CPU 0, this process (the load generator) on CPU 1, when the machine allows it.
const pinned = pinGeneratorToCpu1();
const SERVER_CPU = pinned ? 0 : undefined;

// Every server of this run gets a fresh Redis key prefix (one per scenario), so no token left over
// from an earlier run stands in a line; the keys are removed at the end.
const RUN_PREFIX = `bench:run:${Date.now()}:`;
const prefixFor = (name) => `${RUN_PREFIX}${name}:`;

const notes = [];
// What a scenario returns beside its rows (`rows.summary`), by scenario name.
const summaries = {};
const log = (line) => console.error(`[bench] ${line}`);

async function startInstances(env) {
  const servers = [];
  for (let i = 0; i < instances; i++) {
    servers.push(await startServer({ port: 3101 + i, env, cpu: SERVER_CPU }));
  }
  if (instances > 1) process.env.BENCH_TARGETS = servers.map((s) => s.url).join(',');
  else delete process.env.BENCH_TARGETS;
  return {
    url: servers[0].url,
    urls: servers.map((s) => s.url),
    stop: () => Promise.all(servers.map((s) => s.stop())),
  };
}

function startBaselineProcess(env) {
  const port = 3199;
  return startNodeProcess({
    what: 'baseline server',
    nodeArgs: [fileURLToPath(new URL('./baseline-server.mjs', import.meta.url))],
    env: { ...process.env, ...env, PORT: String(port) },
    cpu: SERVER_CPU,
    port,
    readyPath: '/health',
  });
}

/** A scenario's or comparison's failure becomes a note of the results; the run goes on. */
function noteFailure(what, error) {
  notes.push(`${what} failed: ${error instanceof Error ? error.message : error}`);
  log(`${what} failed: ${error instanceof Error ? error.stack : error}`);
}

/**
 * Overload: 1,000 connections sending back to back, twenty times the concurrency that saturates
 * one instance, so requests pile up unless the service sheds them. Every 429/503 must carry
 * Retry-After; nothing may time out. (Closed loop on purpose: autocannon's fixed-rate mode fires
 * each connection's quota at the start of every second, a synchronised burst no real audience
 * makes, and its latencies then measure that burst.)
 */
async function overloadRun(url, tokens, capacity, via) {
  const connections = 1000;
  const statuses = {};
  let shedWithoutRetryAfter = 0;
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  const instance = autocannon({
    url,
    connections,
    duration,
    timeout: 10,
    requests: pollRequests(tokens),
    setupClient: (client) => {
      client.on('headers', ({ statusCode, headers }) => {
        if (statusCode !== 429 && statusCode !== 503) return;
        const names = headers.filter((_, i) => i % 2 === 0).map((h) => String(h).toLowerCase());
        if (!names.includes('retry-after')) shedWithoutRetryAfter++;
      });
    },
  });
  instance.on('response', (_client, statusCode) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    via,
    connections,
    capacityRps: Math.round(capacity),
    answeredRps: Math.round(result.requests.average),
    okRps: Math.round((statuses[200] ?? 0) / duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    maxLatencyMs: result.latency.max,
    statuses,
    shedWithoutRetryAfter,
    timeouts: result.timeouts,
    errors: result.errors,
    // Above ~90% the generator itself is the bottleneck and latencies include its queueing.
    generatorCpuPercent: Math.round(
      ((cpu.user + cpu.system) / 1000 / (Date.now() - started)) * 100,
    ),
  };
}

/** The commit the measured build is of, and whether src/ differed from it. */
function buildInfo() {
  const build = gitBuild(APP_ROOT);
  if (!build) return 'unknown';
  return `${build.commit}${build.dirty ? ' with uncommitted changes in src/' : ''}`;
}

async function machineInfo() {
  const info = {
    cpuModel: os.cpus()[0]?.model.trim(),
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    pinned: pinned ? 'servers on CPU 0, load generator on CPU 1 (taskset)' : 'not pinned',
    dbTransport: DB_TRANSPORT,
    // Other work on the box skews every figure: the 1-minute load average says how busy it was.
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
    build: buildInfo(),
  };
  try {
    const db = await adminConnection();
    const [rows] = await db.query('SELECT VERSION() AS v');
    info.mysql = rows[0].v;
    await db.end();
  } catch {
    info.mysql = 'unknown';
  }
  try {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      lazyConnect: true,
    });
    await redis.connect();
    info.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    await redis.quit();
  } catch {
    info.redis = 'unknown';
  }
  return info;
}

const fiveXx = (row) => statusCount(row.statuses, (code) => code >= 500);

/** Matches rows to the issue's targets by what they measure (names come from each scenario). */
function judgeTargets(rows, comparison) {
  const verdicts = [];
  const find = (pattern) => rows.filter((r) => pattern.test(r.name));
  const add = (name, target, actual, pass) => verdicts.push({ name, target, actual, pass });
  const poll = comparison?.app;
  if (poll) {
    add('status poll req/s', `≥ ${TARGETS.pollRps}`, poll.rps, poll.rps >= TARGETS.pollRps);
    add('status poll p99', `≤ ${TARGETS.queueP99Ms} ms`, poll.p99, poll.p99 <= TARGETS.queueP99Ms);
    add(
      'status poll / bare baseline',
      `≥ ${TARGETS.pollBaselineRatio * 100}%`,
      `${Math.round(comparison.ratio * 100)}%`,
      comparison.ratio >= TARGETS.pollBaselineRatio,
    );
  }
  for (const row of find(/token|issue/i)) {
    add(`${row.name} req/s`, `≥ ${TARGETS.issueRps}`, row.rps, row.rps >= TARGETS.issueRps);
    add(`${row.name} p99`, `≤ ${TARGETS.queueP99Ms} ms`, row.p99, row.p99 <= TARGETS.queueP99Ms);
  }
  // Throughput targets apply to plain loads; a race for one seat or a step of a combined flow
  // measures something else (contention, the flow's pace) and is reported, not judged.
  const plain = (row) => !/race|flow/i.test(row.name);
  for (const row of find(/^(hold|reserv)/i).filter(plain)) {
    add(`${row.name} req/s`, `≥ ${TARGETS.holdRps}`, row.rps, row.rps >= TARGETS.holdRps);
  }
  for (const row of find(/^pay/i)) {
    add(`${row.name} req/s`, `≥ ${TARGETS.payRps}`, row.rps, row.rps >= TARGETS.payRps);
    add(`${row.name} p99`, `≤ ${TARGETS.payP99Ms} ms`, row.p99, row.p99 <= TARGETS.payP99Ms);
  }
  const all5xx = rows.reduce((sum, row) => sum + fiveXx(row), 0);
  add('5xx outside the overload run', '0', all5xx, all5xx === 0);
  return verdicts;
}

/** Issue 17: req/s ratio at its target, p99 at most P99_FACTOR × the baseline's, no 5xx. */
function physicalTargets(physical) {
  if (!physical) return [];
  return physical.summaries.map((x) => ({
    name: `${x.name} ÷ physical baseline (req/s; p99; 5xx; non-2xx)`,
    target: `≥ ${x.target}; ≤ ${P99_FACTOR}×; 0; 0`,
    actual: `${x.ratio} (${x.ratioMin}–${x.ratioMax}); ${x.p99Ratio}×; ${x.service5xx}; ${x.nonSuccess}`,
    pass: x.met,
  }));
}

function overloadTargets(overload, where = 'through nginx') {
  if (!overload) return [];
  const shed = (overload.statuses[429] ?? 0) + (overload.statuses[503] ?? 0);
  const others = statusCount(overload.statuses, (code) => ![200, 429, 503].includes(code));
  return [
    {
      name: `overload ${where}: sheds with 429/503 + Retry-After, no other error, nothing hangs`,
      target: `every shed with Retry-After, no timeout, max ≤ ${OVERLOAD_MAX_LATENCY_MS} ms`,
      actual:
        `${shed} shed, ${overload.shedWithoutRetryAfter} without Retry-After, ${others} other, ` +
        `${overload.timeouts} timeouts, max ${overload.maxLatencyMs} ms`,
      pass:
        shed > 0 &&
        overload.shedWithoutRetryAfter === 0 &&
        others === 0 &&
        overload.timeouts === 0 &&
        overload.maxLatencyMs <= OVERLOAD_MAX_LATENCY_MS,
    },
  ];
}

/**
 * Every verdict of a run's results (`comparison`: the poll against the bare baseline). Both
 * overload runs are judged: the paced accept path (docs/operations.md, "Overload behaviour") must
 * keep an exposed instance answering too, not only one behind nginx's max_conns.
 */
function allTargets(results, comparison) {
  return [
    ...judgeTargets(
      results.rows.filter((r) => r.scenario !== 'baseline'),
      comparison,
    ),
    ...physicalTargets(results.physical),
    ...overloadTargets(
      results.overload,
      results.overloadDirect ? 'through nginx' : 'straight to the instance',
    ),
    ...(results.overloadDirect
      ? overloadTargets(results.overloadDirect, 'straight to the instance')
      : []),
  ];
}

async function runScenarios(rows) {
  for (const name of only) {
    if (!SCENARIOS.includes(name)) continue;
    const file = new URL(`./${name}.mjs`, import.meta.url);
    if (!existsSync(file)) {
      notes.push(`scenario \`${name}\` skipped: bench/${name}.mjs does not exist`);
      log(`skip ${name}: bench/${name}.mjs missing`);
      continue;
    }
    const scenario = await import(file.href);
    if (scenario.ownServers) {
      // Starts and measures its own servers (the event streams need a server of their own).
      log(`scenario ${name}: its own servers`);
      try {
        const produced = await scenario.run({ duration });
        if (produced.summary) summaries[name] = produced.summary;
      } catch (error) {
        noteFailure(`scenario \`${name}\``, error);
      }
      continue;
    }
    const env = {
      ...SCENARIO_SERVER_ENV,
      ...(scenario.serverEnv ?? {}),
      REDIS_KEY_PREFIX: prefixFor(name),
    };
    log(`scenario ${name}: starting ${instances} instance(s)`);
    const servers = await startInstances(env);
    try {
      const produced = await scenario.run({
        url: servers.url,
        urls: servers.urls,
        duration,
        serverEnv: env,
        serverCpu: SERVER_CPU,
      });
      for (const row of produced) rows.push({ scenario: name, ...row });
      if (produced.summary) summaries[name] = produced.summary;
    } catch (error) {
      noteFailure(`scenario \`${name}\``, error);
    } finally {
      await servers.stop();
    }
  }
}

/**
 * The overload run against the deployed shape: through a local nginx configured like the compose
 * front door, when nginx is installed. The same load straight at Node is run and judged as well:
 * libuv accepts one connection per event-loop iteration, so a saturated instance would accept a
 * burst slowly, which the paced request path prevents (docs/operations.md, "Overload behaviour").
 */
async function runOverload(servers, tokens, capacity) {
  const direct = 'straight to the instance';
  if (!nginxBinary()) {
    notes.push('nginx is not installed: the overload run went straight to the instance');
    log('overload run: 1000 connections, straight to the instance');
    return { judged: await overloadRun(servers.urls[0], tokens, capacity, direct) };
  }
  const proxy = await startFrontProxy({
    port: 3180,
    upstreams: servers.urls,
    cpu: pinned ? 1 : undefined,
  });
  let judged;
  try {
    log('overload run: 1000 connections through nginx');
    judged = await overloadRun(
      proxy.url,
      tokens,
      capacity,
      `through nginx (max_conns=${UPSTREAM_MAX_CONNS} per instance, as in the compose stack)`,
    );
  } finally {
    await proxy.stop();
  }
  await sleep(2000); // let the instance drain what the proxy left in flight
  log('overload run: 1000 connections, straight to the instance');
  return { judged, direct: await overloadRun(servers.urls[0], tokens, capacity, direct) };
}

async function runPollComparison(rows) {
  log('status poll: service vs bare baseline');
  const pollEnv = { ...POLL_LINE_ENV, REDIS_KEY_PREFIX: prefixFor('poll') };
  const servers = await startInstances(pollEnv);
  let comparison;
  let overload;
  try {
    const { tokens } = await queueLine(servers.url, {
      title: 'Poll bench',
      label: 'bench-poller',
      count: POLL_USERS,
    });
    await sleep(1500); // let the admission job admit its first users: a mixed line
    const requests = pollRequests(tokens);
    const app = await load(`status poll (${instances === 1 ? 'service' : '3 instances'})`, {
      url: servers.url,
      duration,
      requests,
    });
    rows.push({ scenario: 'baseline', ...app });
    const code = (await import('./baseline-server.mjs')).loadQueueCode();
    if (code.missing) {
      notes.push(`bare baseline skipped: ${code.missing}`);
    } else {
      const baseline = await startBaselineProcess(pollEnv);
      try {
        delete process.env.BENCH_TARGETS; // the baseline is one process, whatever --instances
        const bare = await load('status poll (bare Fastify + ioredis)', {
          url: baseline.url,
          duration,
          requests: pollRequests(tokens),
        });
        rows.push({ scenario: 'baseline', ...bare });
        // Per process: with three instances the service's figure is divided by three.
        const perProcess = app.rps / instances;
        comparison = { app, bare, ratio: perProcess / bare.rps };
      } finally {
        await baseline.stop();
      }
    }
    if (!args['no-overload']) overload = await runOverload(servers, tokens, app.rps / instances);
  } finally {
    await servers.stop();
  }
  return { comparison, overload };
}

/**
 * The bearer check's share of the API's CPU per request, for every load whose requests carry a
 * bearer: its µs per call (measured in the auth scenario, same run) over the API CPU each request
 * of that load took (the load's API CPU % over its rate). A row without a CPU figure is a step of
 * the row before it (the hold of the hold → pay flow): its requests count with that row's CPU.
 */
function bearerShares(rows, auth) {
  const carriesBearer = (row) =>
    ['queue', 'reserve', 'pay', 'charge'].includes(row.scenario) && !/status poll/.test(row.name);
  const shares = [];
  for (const row of rows) {
    if (!carriesBearer(row)) continue;
    if (!row.cpu) {
      const owner = shares.at(-1);
      if (owner && owner.scenario === row.scenario) owner.rps += row.rps;
      continue;
    }
    shares.push({ scenario: row.scenario, name: row.name, rps: row.rps, apiCpu: row.cpu.api });
  }
  return shares
    .filter((s) => s.rps > 0 && s.apiCpu > 0)
    .map(({ apiCpu, ...s }) => {
      const apiCpuUs = Math.round((apiCpu / 100) * (1e6 / s.rps));
      const percent = Math.round((1000 * auth.bearer.authenticateUs) / apiCpuUs) / 10;
      return { ...s, apiCpuUs, percent };
    });
}

function markdownTable(header, lines) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
  ].join('\n');
}

function resultsMarkdown(results) {
  const m = results.machine;
  const statusText = (statuses) =>
    Object.entries(statuses)
      .map(([code, count]) => `${code}: ${count}`)
      .join(', ');
  const parts = [
    `Generated by \`${results.command}\` on ${results.generatedAt} (UTC).`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ` +
      `MySQL ${m.mysql}${m.dbTransport ? ` (servers connect over ${m.dbTransport})` : ''}; Redis ${m.redis}; ${m.pinned}. Instances: ${results.instances}; ` +
      `${results.durationSeconds} s per load; MySQL and Redis on the same box, unpinned; ` +
      `load average ${m.loadAverageAtStart} at the start${m.loadAverageAtStart > 0.5 ? ' (other work was running: figures are noisy)' : ''}.` +
      (m.build ? ` Build: ${m.build}.` : ''),
    '',
    '![req/s and p99 per scenario](benchmarks/chart.svg)',
    '',
    markdownTable(
      ['scenario', 'load', ...LOAD_COLUMNS, 'CPU % api/db/redis/generator'],
      results.rows.map((r) => [
        r.scenario,
        r.name,
        r.rps,
        r.p50,
        r.p95 ?? '',
        r.p99,
        statusText(r.statuses),
        r.errors,
        cpuCell(r),
      ]),
    ),
    '',
  ];
  if (results.baseline) {
    parts.push(
      `Status poll against the bare baseline (Fastify + ioredis running the same queue code): ` +
        `**${Math.round(results.baseline.ratio * 100)}%** ` +
        `(${results.baseline.app.rps} vs ${results.baseline.bare.rps} req/s per process).`,
      '',
    );
  }
  if (results.physical) {
    const ph = results.physical;
    parts.push(
      `Service ÷ physical baseline (bench/physical.mjs: bare Fastify + ioredis + mysql2 doing only ` +
        `what the contract demands on the path, same Redis keys and tables, same CPU, TCP, pool ` +
        `20; ${ph.pairs} alternating pairs per path, the order flipping each pair; ` +
        `${ph.durationSeconds} s poll loads, fixed-size issue/hold/payment loads; ratio = median ` +
        `of the per-pair ratios, min–max in brackets). API CPU µs/request = the server ` +
        `process's CPU over its rate; CPU ratio = baseline µs ÷ service µs, the same ratio in CPU ` +
        `terms, steadier than req/s when other work shares the box. Load generator CPU (median, service loads) per path: ` +
        ph.summaries.map((x) => `${x.name} ${x.generatorCpu}%`).join(', ') +
        ` (at ≥ 90% the generator, not the server, bounds req/s and the µs ratio is the better ` +
        `measure).`,
      '',
      physicalTable(ph.summaries),
      '',
    );
  }
  const overloadText = (o) =>
    `status poll, ${o.connections} connections back to back, ${o.via ?? 'straight to the instance'}, ` +
    `against one instance that serves ${o.capacityRps} req/s at 50: answered ${o.answeredRps} ` +
    `req/s, of which ${o.okRps} req/s 200; statuses ${statusText(o.statuses)}; 429/503 without ` +
    `Retry-After: ${o.shedWithoutRetryAfter}; p50 ${o.p50} ms, p99 ${o.p99} ms, max ` +
    `${o.maxLatencyMs} ms; timeouts (10 s) ${o.timeouts}; load generator CPU ` +
    `${o.generatorCpuPercent}%.`;
  const bullets = (lines) => [...lines.map((line) => `- ${line}.`), ''];
  if (results.overload) parts.push(`Overload (judged): ${overloadText(results.overload)}`, '');
  if (results.overloadDirect) {
    parts.push(
      `The same load with no proxy (judged too; see docs/operations.md, "Overload behaviour"): ` +
        overloadText(results.overloadDirect),
      '',
    );
  }
  if (results.auth) {
    parts.push(
      'Accounts (scenario `auth`, same run):',
      '',
      ...bullets(authSummaryLines(results.auth)),
      `Bearer check (${results.auth.bearer.authenticateUs} µs) as a share of the API CPU per ` +
        'request of each load that carries a bearer (API CPU % ÷ req/s; the hold → pay flow ' +
        'counts both steps):',
      '',
      markdownTable(
        ['scenario', 'load', 'req/s', 'API CPU µs per request', 'bearer check share'],
        results.auth.share.map((s) => [s.scenario, s.name, s.rps, s.apiCpuUs, `${s.percent}%`]),
      ),
      '',
    );
  }
  const sections = [
    ['events', 'Booking events (scenario `events`, same run; docs/events.md):', eventsSummaryLines],
    [
      'sse',
      'Event streams (scenario `sse`, same run; docs/queue.md, "Event streams"):',
      sseSummaryLines,
    ],
  ];
  for (const [key, title, lines] of sections) {
    if (results[key]) parts.push(title, '', ...bullets(lines(results[key])));
  }
  parts.push(
    markdownTable(
      ['target', 'wanted', 'measured', 'met'],
      results.targets.map((t) => [t.name, t.target, t.actual, t.pass ? 'yes' : '**no**']),
    ),
    '',
  );
  if (results.notes.length > 0) {
    parts.push('Notes:', '', ...results.notes.map((n) => `- ${n}`), '');
  }
  return parts.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

async function updateDocs(results) {
  const dir = `${root}docs/benchmarks`;
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(`${dir}/chart.svg`, renderChart(results));
  const docPath = `${root}docs/benchmarks.md`;
  const doc = existsSync(docPath)
    ? await readFile(docPath, 'utf8')
    : `# Benchmarks\n\n${START}\n${END}\n`;
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md lacks the ${START} markers`);
  const updated = `${doc.slice(0, start + START.length)}\n${resultsMarkdown(results)}${doc.slice(end)}`;
  // Formatted like every other doc, so `npm run lint` (prettier --check) stays green after a run.
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  await writeFile(docPath, await prettier.format(updated, { ...options, filepath: docPath }));
  log('wrote docs/benchmarks/latest.json, docs/benchmarks/chart.svg, docs/benchmarks.md');
}

/**
 * Every run starts from an empty bench database (the servers' migrations recreate it): rows left
 * by earlier runs would make each run's holds and payments work on bigger tables than the last.
 */
const dropBenchDatabase = () => dropDatabases([BENCH_DB_NAME]);

async function main() {
  const rows = [];
  if (!args['keep-db']) await dropBenchDatabase();
  const machine = await machineInfo();
  const { comparison, overload } = await runPollComparison(rows);
  const physical = withPhysical ? await runPhysicalComparison() : undefined;
  await runScenarios(rows);

  const results = {
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    instances,
    durationSeconds: duration,
    machine,
    rows,
    baseline: comparison
      ? {
          app: comparison.app,
          bare: comparison.bare,
          ratio: Math.round(comparison.ratio * 1000) / 1000,
        }
      : undefined,
    overload: overload?.judged,
    overloadDirect: overload?.direct,
    auth: summaries.auth
      ? { ...summaries.auth, share: bearerShares(rows, summaries.auth) }
      : undefined,
    events: summaries.events,
    sse: summaries.sse,
    physical,
    notes,
  };
  results.targets = allTargets(results, comparison);

  printTable(rows.map((r) => ({ ...r, name: `${r.scenario}: ${r.name}` })));
  if (comparison) {
    console.log(
      `\nstatus poll vs bare baseline: ${Math.round(comparison.ratio * 100)}% ` +
        `(${comparison.app.rps} vs ${comparison.bare.rps} req/s)`,
    );
  }
  if (results.overload) console.log(`overload: ${JSON.stringify(results.overload)}`);
  if (results.overloadDirect) {
    console.log(`overload, straight to the instance: ${JSON.stringify(results.overloadDirect)}`);
  }
  console.log('');
  for (const t of results.targets) {
    console.log(`${t.pass ? 'ok  ' : 'MISS'}  ${t.name}: ${t.actual} (wanted ${t.target})`);
  }
  if (results.auth) {
    console.log('');
    for (const line of authSummaryLines(results.auth)) console.log(line);
    for (const s of results.auth.share) {
      console.log(
        `bearer check share, ${s.scenario}: ${s.name}: ${s.percent}% of ${s.apiCpuUs} µs API CPU per request`,
      );
    }
  }
  if (results.events) {
    console.log('');
    for (const line of eventsSummaryLines(results.events)) console.log(line);
  }
  if (results.sse) {
    console.log('\nEvent streams:');
    for (const line of sseSummaryLines(results.sse)) console.log(line);
  }
  if (physical) console.log(`\nservice ÷ physical baseline:\n${physicalTable(physical.summaries)}`);
  for (const note of notes) console.log(`note: ${note}`);
  if (!args['no-docs']) await updateDocs(results);
}

/** Service ÷ physical baseline per hot path (issue 17), on one instance whatever --instances. */
async function runPhysicalComparison() {
  const pairs = Number(args['physical-pairs']);
  const seconds = Number(args['physical-duration']);
  log(`physical baselines: ${pairs} alternating pairs per path`);
  try {
    const measured = await runPhysical({
      pairs,
      duration: seconds,
      paths: PHYSICAL_PATHS,
      cpu: SERVER_CPU,
      prefix: prefixFor('physical'),
    });
    return {
      pairs,
      durationSeconds: seconds,
      summaries: measured.summaries,
      rows: measured.rows.map(({ path, pair, side, name, rps, p50, p99, statuses, cpu }) => ({
        path,
        pair,
        side,
        name,
        rps,
        p50,
        p99,
        statuses,
        cpu,
      })),
    };
  } catch (error) {
    noteFailure('physical baselines', error);
    return undefined;
  }
}

async function renderOnly() {
  const results = JSON.parse(await readFile(`${root}docs/benchmarks/latest.json`, 'utf8'));
  results.targets = allTargets(results, results.baseline);
  await updateDocs(results);
}

if (args['render-only']) {
  await renderOnly();
} else {
  try {
    await main();
  } finally {
    await removeRedisKeys(RUN_PREFIX);
    await closeBenchDb();
  }
}
