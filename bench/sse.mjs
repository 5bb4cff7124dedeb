// Event streams (GET /queue/events) at scale on one instance: what an open stream costs while
// nothing happens, and how fast an admission reaches its stream.
//
//   node bench/sse.mjs [--streams 5000] [--idle 10]      (also the `sse` scenario of npm run bench)
//
// Two built servers (both running the admission job, as every instance does), one room; the
// streams all go to the measured one. One holder is admitted first and the
// room capped at 1, so `--streams` fans wait while their streams are opened. Then:
// - memory per stream: the server's RSS with every stream open minus before, divided by the count;
// - CPU per second while idle: the server's CPU over `--idle` seconds with every stream open,
//   next to the same measurement with none open (same run, so the ratio is what counts);
// - admission → `admitted` latency: the cap is lifted (1,000 admissions a second) and each
//   stream's `admitted` event is timed against its admission time in Redis (the admitted log's
//   score, Redis TIME; the same host clock as this process).
import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ADMIN_KEY,
  api,
  closeBenchDb,
  createConcert,
  insertUsers,
  issueQueueTokens,
  removeRedisKeys,
  startServer,
} from './lib.mjs';

const PREFIX = `bench-sse-${randomBytes(3).toString('hex')}:`;

/** For bench/run.mjs: this scenario starts its own two servers (see above). */
export const ownServers = true;

const rssBytes = (pid) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
async function cpuPerSecond(pid, seconds) {
  const before = cpuSeconds(pid);
  await sleep(seconds * 1000);
  return (cpuSeconds(pid) - before) / seconds;
}
const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Opens one stream; resolves once its first `status` arrived; records the `admitted` time. */
function openStream(url, token, agent, onAdmitted) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/queue/events`, { agent, headers: { 'queue-token': token } });
    req.on('error', reject);
    req.on('response', (response) => {
      if (response.statusCode !== 200)
        return reject(new Error(`stream answered ${response.statusCode}`));
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk) => {
        buffer += chunk;
        if (buffer.includes('event: status')) resolve(req);
        if (buffer.includes('event: admitted')) {
          onAdmitted(token, Date.now());
          buffer = '';
        }
        if (buffer.length > 4096) buffer = buffer.slice(-1024);
      });
    });
    req.end();
  });
}

/** Measures and returns the figures; `[]` rows plus `.summary`, the runner's scenario shape. */
export async function run({ streams: STREAMS = 5000, idleSeconds: IDLE_SECONDS = 10 } = {}) {
  const env = {
    REDIS_KEY_PREFIX: PREFIX,
    QUEUE_SSE_MAX_STREAMS: String(STREAMS + 100),
    QUEUE_MAX_ACTIVE_USERS: '1',
    OVERLOAD_MAX_IN_FLIGHT: '0',
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
  };
  // Sign-ups and token issues go to another instance, so the garbage of thousands of setup
  // requests does not sit in the measured server's RSS before the streams open.
  const issuer = await startServer({ port: 3291, env });
  const server = await startServer({ port: 3290, env });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    keyPrefix: PREFIX,
  });
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const streams = [];
  try {
    const concertId = await createConcert(issuer.url, 'SSE bench');
    const [holder, ...fans] = await insertUsers(STREAMS + 1, 'sse');
    await issueQueueTokens(issuer.url, [holder], concertId);
    await sleep(1200); // the job admits the holder; everyone after waits
    const tokens = await issueQueueTokens(issuer.url, fans, concertId);

    const idleCpuWithout = await cpuPerSecond(server.child.pid, IDLE_SECONDS);
    const rssBefore = rssBytes(server.child.pid);
    const admittedAt = new Map();
    const openedAt = Date.now();
    for (let start = 0; start < tokens.length; start += 250) {
      streams.push(
        ...(await Promise.all(
          tokens
            .slice(start, start + 250)
            .map((token) => openStream(server.url, token, agent, (t, at) => admittedAt.set(t, at))),
        )),
      );
    }
    const openSeconds = (Date.now() - openedAt) / 1000;
    await sleep(2000);
    const rssAfter = rssBytes(server.child.pid);
    const idleCpuWith = await cpuPerSecond(server.child.pid, IDLE_SECONDS);

    const configured = await api(
      server.url,
      'PUT',
      `/admin/concerts/${concertId}/waiting-room`,
      { maxActiveUsers: STREAMS + 10, admitPerSecond: 1000 },
      { 'x-admin-key': ADMIN_KEY },
    );
    if (configured.status !== 200)
      throw new Error(`PUT waiting-room answered ${configured.status}`);
    const deadline = Date.now() + (STREAMS / 1000) * 1000 + 15_000;
    while (admittedAt.size < tokens.length && Date.now() < deadline) await sleep(200);

    const log = await redis.zrange(`{room:${concertId}}:admitted`, 0, -1, 'WITHSCORES');
    const admissionTime = new Map();
    for (let i = 0; i < log.length; i += 2) admissionTime.set(log[i], Number(log[i + 1]));
    const delays = [...admittedAt]
      .filter(([token]) => admissionTime.has(token))
      .map(([token, at]) => at - admissionTime.get(token))
      .sort((a, b) => a - b);

    const summary = {
      streams: streams.length,
      openSeconds: Math.round(openSeconds * 10) / 10,
      rssPerStreamKiB: Math.round(((rssAfter - rssBefore) / streams.length / 1024) * 10) / 10,
      idleCpuPercentWithout: Math.round(idleCpuWithout * 1000) / 10,
      idleCpuPercentWith: Math.round(idleCpuWith * 1000) / 10,
      admittedEvents: delays.length,
      expectedEvents: tokens.length,
      admittedP50Ms: percentile(delays, 0.5),
      admittedP99Ms: percentile(delays, 0.99),
      admittedMaxMs: delays.at(-1),
    };
    return Object.assign([], { summary });
  } finally {
    for (const req of streams) req.destroy();
    redis.disconnect();
    await Promise.all([server.stop(), issuer.stop()]);
    await closeBenchDb();
    await removeRedisKeys(PREFIX);
  }
}

export function summaryLines(s) {
  return [
    `${s.streams} open streams on one instance (opened in ${s.openSeconds} s)`,
    `server RSS per open stream: ${s.rssPerStreamKiB} KiB`,
    `server CPU while idle: ${s.idleCpuPercentWith}% of a core with the streams open, ${s.idleCpuPercentWithout}% with none`,
    `admission → \`admitted\` event: p50 ${s.admittedP50Ms} ms, p99 ${s.admittedP99Ms} ms, max ${s.admittedMaxMs} ms (${s.admittedEvents} of ${s.expectedEvents} events, 1,000 admissions/s)`,
  ];
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '5000' },
      idle: { type: 'string', default: '10' },
    },
  });
  const result = await run({ streams: Number(values.streams), idleSeconds: Number(values.idle) });
  for (const line of summaryLines(result.summary)) console.log(line);
}
