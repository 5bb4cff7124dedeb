// The service against its physical baselines (issue 17), path by path, in one run: one built
// instance and bench/physical-baseline.mjs (bare Fastify + ioredis + mysql2, the minimal work
// the contract demands) run side by side on the same CPU, the same Redis and the same database
// over TCP with the same pool size, and serve the same tokens, users and seats. Loads alternate
// service / baseline, the order flipping every pair, so drift on this shared machine lands on
// both; each pair gives one ratio, and the summary is the median ratio with its spread.
//
//   status poll            the same 1,000 tokens, a mixed line (100 ACTIVE, the rest WAITING)
//   newcomer token issue   a fresh concert per load, so every request is a newcomer's 201
//   hold                   every request a fresh fan (bearer, ACTIVE token) and a never-held seat
//   payment                each fan pays the seat it held in the hold loads (a payment retires
//                          its payer's token, so each fan pays once)
//
// Usage: npm run build && node bench/physical.mjs [--pairs 5] [--duration 5] [--only poll,issue]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ADMIT_ALL_ENV,
  apiCpuUs,
  AUTH_SERVER_ENV,
  BENCH_DB_NAME,
  benchNodeArgs,
  closeBenchDb,
  createConcert,
  fanHeaders,
  insertUsers,
  load,
  median,
  pollRequests,
  queueLine,
  removeRedisKeys,
  roundTo as round,
  seatsAndFans,
  startNodeProcess,
  startServer,
  statusCount,
  tokenRequests,
  waitForIdleServers,
} from './lib.mjs';

export const PATHS = ['poll', 'issue', 'hold', 'pay'];
export const PATH_NAMES = {
  poll: 'status poll',
  issue: 'newcomer token issue',
  hold: 'hold',
  pay: 'payment',
};
/** service ÷ baseline, req/s (issue 17); p99 at most twice the baseline's on every path. */
export const RATIO_TARGETS = { poll: 0.75, issue: 0.7, hold: 0.8, pay: 0.8 };
export const P99_FACTOR = 2;

const POLL_USERS = 1000;
const ISSUE_PER_LOAD = 5000;
const HOLDS_PER_LOAD = 2000;
const WARM_UP = 300;
const PRICE = 50_000;
const BASELINE_PORT = 3198;

/** Holds and tokens outlive the run; every fan is ACTIVE at once except in the poll's room. */
const SERVER_ENV = {
  ...ADMIT_ALL_ENV,
  QUEUE_WAITING_IDLE_SECONDS: '900',
  // TCP for both sides (the outside measurement's setup); the pool is the service's default.
  DB_SOCKET_PATH: '',
  DB_POOL_SIZE: '20',
};

const log = (line) => console.error(`[bench:physical] ${line}`);

function startBaseline(env, cpu) {
  return startNodeProcess({
    what: 'physical baseline',
    nodeArgs: [
      ...benchNodeArgs(),
      fileURLToPath(new URL('./physical-baseline.mjs', import.meta.url)),
    ],
    env: {
      ...process.env,
      ...AUTH_SERVER_ENV,
      ...env,
      DB_NAME: BENCH_DB_NAME,
      PORT: String(BASELINE_PORT),
    },
    cpu,
    port: BASELINE_PORT,
    readyPath: '/health',
  });
}

/** Hands out the next item of a list to each request; fails loudly when the list runs dry. */
function cursor(items, what) {
  let next = 0;
  return {
    take() {
      if (next >= items.length) throw new Error(`bench ran out of ${what}`);
      return items[next++];
    },
    get used() {
      return next;
    },
  };
}

/** One load of `path` against `url`; `take` draws what each request needs. */
function loadFor(path, side, url, options) {
  const name = `${PATH_NAMES[path]} (${side})`;
  return load(name, { url, connections: 50, ...options });
}

async function prepare(serviceUrl, { pairs, paths, duration }) {
  const data = {};
  if (paths.includes('poll')) {
    // A realistic line: a few ACTIVE, most WAITING (position lookups included).
    const line = await queueLine(serviceUrl, {
      title: 'Physical poll',
      label: 'physical-poll',
      count: POLL_USERS,
      room: { maxActiveUsers: 100, admitPerSecond: 100 },
    });
    data.pollTokens = line.tokens;
  }
  if (paths.includes('issue')) {
    // Fresh concerts make every request a newcomer's; the users are shared (their first-sight
    // check is cached on both sides after the warm-up, as it is in production).
    data.issueUsers = await insertUsers(ISSUE_PER_LOAD, 'physical-issue');
    data.issueConcerts = [];
    for (let i = 0; i < pairs * 2 + 2; i++) {
      data.issueConcerts.push(await createConcert(serviceUrl, `Physical issue ${i}`));
    }
  }
  if (paths.includes('hold') || paths.includes('pay')) {
    const holds = (pairs * 2 + 2) * HOLDS_PER_LOAD + 2 * WARM_UP;
    log(`creating ${holds} seats and fans with cash and ACTIVE tokens`);
    const { seats, fans } = await seatsAndFans(serviceUrl, {
      title: 'Physical hold',
      label: 'physical-fan',
      seats: holds,
      price: PRICE,
    });
    data.fans = fans.map((fan, i) => ({
      headers: fanHeaders(fan),
      body: JSON.stringify(seats[i]),
    }));
  }
  log(`set up for ${duration} s loads`);
  return data;
}

function holdRequests(fans, paid) {
  return [
    {
      method: 'POST',
      path: '/reservations',
      setupRequest: (request, context) => {
        const fan = fans.take();
        context.fan = fan;
        return { ...request, headers: fan.headers, body: fan.body };
      },
      onResponse: (status, body, context) => {
        if (status === 201) paid.push({ headers: context.fan.headers, id: JSON.parse(body).id });
      },
    },
  ];
}

function payRequests(held) {
  return [
    {
      method: 'POST',
      path: '/payments',
      setupRequest: (request) => {
        const hold = held.take();
        return {
          ...request,
          headers: hold.headers,
          body: JSON.stringify({ reservationIds: [hold.id] }),
        };
      },
    },
  ];
}

/**
 * The loads of one path: a warm-up on each side (JIT, caches, pools; not counted), then `pairs`
 * alternating pairs. Returns the rows and the per-pair ratios.
 */
async function measurePath(path, sides, data, { pairs, duration }) {
  const rows = [];
  let issueConcert = 0;
  const held = [];
  const fans = data.fans ? cursor(data.fans, 'fresh fans') : undefined;
  // The payments pay the holds made here (or by an earlier hold path run in this call).
  const heldCursor = path === 'pay' ? cursor(data.held, 'held seats') : undefined;
  // Every load pays as many as it can with a 2% margin (a hold that failed paid nothing).
  const payAmount =
    path === 'pay'
      ? Math.min(
          HOLDS_PER_LOAD,
          Math.floor((0.98 * (data.held.length - 2 * WARM_UP)) / (2 * pairs)),
        )
      : 0;
  const optionsFor = () => {
    if (path === 'poll') return { duration, requests: pollRequests(data.pollTokens) };
    if (path === 'issue') {
      const concertId = data.issueConcerts[issueConcert++];
      return {
        amount: data.issueUsers.length,
        requests: tokenRequests(data.issueUsers, concertId),
      };
    }
    if (path === 'hold') return { amount: HOLDS_PER_LOAD, requests: holdRequests(fans, held) };
    return { amount: payAmount, requests: payRequests(heldCursor) };
  };
  // Poll: 2 s; issue: one whole load on a concert of its own; hold and pay: a few hundred.
  const warm = () => {
    if (path === 'poll') return { ...optionsFor(), duration: 2 };
    if (path === 'issue') return optionsFor();
    return { ...optionsFor(), amount: WARM_UP };
  };
  for (const side of ['service', 'baseline']) {
    log(`${PATH_NAMES[path]}: warm-up, ${side}`);
    await loadFor(path, side, sides[side], warm());
    await waitForIdleServers(5000);
  }
  const ratios = [];
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? ['service', 'baseline'] : ['baseline', 'service'];
    const got = {};
    for (const side of order) {
      log(`${PATH_NAMES[path]}: pair ${pair + 1}/${pairs}, ${side}`);
      got[side] = await loadFor(path, side, sides[side], optionsFor());
      await waitForIdleServers(5000);
    }
    rows.push({ pair: pair + 1, ...got.service, side: 'service' });
    rows.push({ pair: pair + 1, ...got.baseline, side: 'baseline' });
    ratios.push({
      rps: got.service.rps / got.baseline.rps,
      p99: got.service.p99 / Math.max(got.baseline.p99, 1),
    });
  }
  if (path === 'hold') data.held = held;
  return { rows, ratios };
}

/** Answers across `rows` whose status `matches` accepts. */
const countOf = (rows, matches) =>
  rows.reduce((n, row) => n + statusCount(row.statuses, matches), 0);

function summarise(path, { rows, ratios }) {
  const side = (name) => rows.filter((r) => r.side === name);
  const rpsRatios = ratios.map((r) => r.rps);
  const p99Ratios = ratios.map((r) => r.p99);
  const service = side('service');
  const baseline = side('baseline');
  const summary = {
    path,
    name: PATH_NAMES[path],
    pairs: ratios.length,
    serviceRps: median(service.map((r) => r.rps)),
    baselineRps: median(baseline.map((r) => r.rps)),
    serviceP99: median(service.map((r) => r.p99)),
    baselineP99: median(baseline.map((r) => r.p99)),
    serviceCpuUs: Math.round(median(service.map(apiCpuUs))),
    baselineCpuUs: Math.round(median(baseline.map(apiCpuUs))),
    ratio: round(median(rpsRatios)),
    ratioMin: round(Math.min(...rpsRatios)),
    ratioMax: round(Math.max(...rpsRatios)),
    p99Ratio: round(median(p99Ratios)),
    p99RatioMin: round(Math.min(...p99Ratios)),
    p99RatioMax: round(Math.max(...p99Ratios)),
    service5xx: countOf(service, (code) => code >= 500),
    baseline5xx: countOf(baseline, (code) => code >= 500),
    nonSuccess: countOf(service, (code) => code >= 300),
    target: RATIO_TARGETS[path],
    generatorCpu: median(service.map((r) => r.cpu?.generator ?? 0)),
  };
  summary.met =
    summary.ratio >= summary.target &&
    summary.p99Ratio <= P99_FACTOR &&
    summary.service5xx === 0 &&
    summary.nonSuccess === 0;
  return summary;
}

/**
 * Runs the comparison. `cpu`: where both servers run (the caller pins itself elsewhere).
 * Returns { summaries, rows } for bench/run.mjs (or prints them when run alone).
 */
export async function run({ pairs = 5, duration = 5, paths = PATHS, cpu, prefix } = {}) {
  const env = { ...SERVER_ENV, REDIS_KEY_PREFIX: prefix ?? `bench:physical:${Date.now()}:` };
  const service = await startServer({ port: 3141, env, cpu });
  let baseline;
  const summaries = [];
  const rows = [];
  try {
    baseline = await startBaseline(env, cpu);
    const sides = { service: service.url, baseline: baseline.url };
    const data = await prepare(service.url, { pairs, paths, duration });
    // Payments pay what the holds held, so holds run first whenever payments are asked for.
    const order = PATHS.filter((p) => paths.includes(p) || (p === 'hold' && paths.includes('pay')));
    for (const path of order) {
      const measured = await measurePath(path, sides, data, { pairs, duration });
      rows.push(...measured.rows.map((r) => ({ path, ...r })));
      if (paths.includes(path)) summaries.push(summarise(path, measured));
    }
  } finally {
    await baseline?.stop();
    await service.stop();
    if (!prefix) await removeRedisKeys(env.REDIS_KEY_PREFIX);
  }
  return { summaries, rows, pairs, duration };
}

/** The ratio table as markdown rows (docs/benchmarks.md and the console). */
export function summaryTable(summaries) {
  const header = [
    'path',
    'service req/s',
    'baseline req/s',
    'ratio (median, min–max)',
    'target',
    'p99 ms service / baseline',
    'p99 ratio (median, min–max)',
    'API CPU µs/request service / baseline',
    'CPU ratio (baseline ÷ service µs)',
    '5xx',
    'met',
  ];
  const lines = summaries.map((s) => [
    s.name,
    s.serviceRps,
    s.baselineRps,
    `**${s.ratio}** (${s.ratioMin}–${s.ratioMax})`,
    `≥ ${s.target}`,
    `${s.serviceP99} / ${s.baselineP99}`,
    `${s.p99Ratio} (${s.p99RatioMin}–${s.p99RatioMax})`,
    `${s.serviceCpuUs} / ${s.baselineCpuUs}`,
    s.serviceCpuUs ? round(s.baselineCpuUs / s.serviceCpuUs) : '',
    s.service5xx,
    s.met ? 'yes' : '**no**',
  ]);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5' },
      only: { type: 'string' },
      cpu: { type: 'string' },
    },
  });
  try {
    const result = await run({
      pairs: Number(values.pairs),
      duration: Number(values.duration),
      paths: values.only ? values.only.split(',') : PATHS,
      cpu: values.cpu,
    });
    for (const row of result.rows) {
      console.log(
        `${row.path} pair ${row.pair} ${row.side}: ${row.rps} req/s, p99 ${row.p99} ms, ` +
          `api cpu ${row.cpu?.api}%, ${JSON.stringify(row.statuses)}`,
      );
    }
    console.log(summaryTable(result.summaries));
  } finally {
    await closeBenchDb();
  }
}
