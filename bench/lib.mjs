// Shared helpers for the autocannon benchmarks (plain ESM so they run without a build step).
import autocannon from 'autocannon';
import { spawn, execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export const ADMIN_KEY = process.env.ADMIN_API_KEY ?? 'bench-admin-key';

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `node dist/main.js` with the given env on a free port and waits for /health/ready.
 * With taskset available the server is pinned to `cpu` so the load generator gets the other core.
 */
export async function startServer({ port, env = {}, cpu } = {}) {
  const serverEnv = {
    ...process.env,
    PORT: String(port),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'error',
    DB_NAME: process.env.BENCH_DB_NAME ?? 'concert_bench',
    ...env,
  };
  const pin = cpu !== undefined && hasTaskset();
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where a load spends its CPU.
  const nodeArgs = [
    ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    'dist/main.js',
  ];
  const child = pin
    ? spawn('taskset', ['-c', String(cpu), 'node', ...nodeArgs], {
        env: serverEnv,
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : spawn('node', nodeArgs, { env: serverEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.ok) return { url, child, stop: () => stopChild(child) };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`server on ${port} did not become ready`);
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

/** Runs autocannon and returns a summary row: req/s, latency percentiles, statuses. */
export async function load(name, options) {
  const statuses = {};
  const instance = autocannon(fanOut({ connections: 50, duration: 10, ...options }));
  instance.on('response', (_client, statusCode) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  return {
    name,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
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

export function printTable(rows) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses', 'errors'];
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
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}
