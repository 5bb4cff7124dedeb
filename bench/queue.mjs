// The waiting queue under load on one built instance: token issue by newcomers (bearer check with
// the first-sight user lookup, concert check, join script), token issue by returning users (bearer
// check, same token back, Redis only) and status polling on a realistic line (most WAITING, some
// ACTIVE; one Lua script per poll; no bearer). Users are inserted into MySQL and their access
// tokens minted with the bench's secret (bench/lib.mjs).
// Usage: npm run bench:queue   (env: BENCH_DURATION seconds, default 10; BENCH_QUEUE_USERS, 15000)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import {
  closeBenchDb,
  createConcert,
  insertUsers,
  load,
  printTable,
  removeRedisKeys,
  startServer,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const USERS = Number(process.env.BENCH_QUEUE_USERS ?? 15_000);
const CONNECTIONS = 50;

/**
 * The production defaults for the line, so polls see both WAITING (position and ETA computed)
 * and ACTIVE tokens; idle drop pushed out so no bench token is dropped between the loads.
 */
export const serverEnv = {
  QUEUE_MAX_ACTIVE_USERS: '1000',
  QUEUE_ADMIT_PER_SECOND: '100',
  QUEUE_WAITING_IDLE_SECONDS: '900',
};

const JSON_HEADERS = { 'content-type': 'application/json' };

export async function run({ url, duration = DURATION }) {
  const rows = [];
  console.error(`[bench:queue] creating ${USERS} users`);
  const concertId = await createConcert(url, 'Queue bench');
  const body = JSON.stringify({ concertId });
  const users = await insertUsers(USERS, 'queue-bench');

  // 1. Every request a user who has never asked: 201, the MySQL lookup batched, the join script.
  const tokens = [];
  let nextNewcomer = 0;
  rows.push(
    await load(`token issue, ${USERS} newcomers (201)`, {
      url,
      connections: CONNECTIONS,
      amount: users.length,
      requests: [
        {
          method: 'POST',
          path: '/queue/tokens',
          body,
          setupRequest: (request) => ({
            ...request,
            headers: { ...JSON_HEADERS, ...users[nextNewcomer++ % users.length].auth },
          }),
          onResponse: (status, body) => {
            if (status === 201) tokens.push(JSON.parse(body).token);
          },
        },
      ],
    }),
  );
  if (tokens.length === 0) throw new Error('no token was issued');

  // 2. The same users asking again (a reload, a retry): their live token back, Redis only.
  let nextReturning = 0;
  rows.push(
    await load('token issue, returning users (200)', {
      url,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'POST',
          path: '/queue/tokens',
          body,
          setupRequest: (request) => ({
            ...request,
            headers: { ...JSON_HEADERS, ...users[nextReturning++ % users.length].auth },
          }),
        },
      ],
    }),
  );

  // 3. Status polls cycling through every token: position, measured-rate ETA, poll hint.
  let nextPoll = 0;
  rows.push(
    await load(`status poll, ${tokens.length} in line`, {
      url,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'GET',
          path: '/queue/status',
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, 'queue-token': tokens[nextPoll++ % tokens.length] },
          }),
        },
      ],
    }),
  );

  // 4. Junk tokens: rejected (401) before Redis is asked.
  rows.push(
    await load('status poll, malformed header (401)', {
      url,
      connections: CONNECTIONS,
      duration: Math.min(duration, 5),
      headers: { 'queue-token': 'x'.repeat(36) },
      requests: [{ method: 'GET', path: '/queue/status' }],
    }),
  );
  return rows;
}

function pinSelfToCpu1() {
  try {
    if (os.cpus().length < 2) return false;
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Server on CPU 0, this load generator on CPU 1, as bench/run.mjs does.
  const pinned = pinSelfToCpu1();
  const prefix = `bench:queue:${Date.now()}:`;
  const server = await startServer({
    port: 3111,
    cpu: pinned ? 0 : undefined,
    // A fresh key prefix: no tokens left over from an earlier run stand in this line.
    env: { ...serverEnv, REDIS_KEY_PREFIX: prefix },
  });
  try {
    const rows = await run({ url: server.url });
    printTable(rows);
    console.log(
      `\n${pinned ? 'server pinned to CPU 0, load generator to CPU 1' : 'not pinned'}; ` +
        `MySQL and Redis on the same box; ${os.cpus().length} cores; non-2xx per row under statuses`,
    );
  } finally {
    await server.stop();
    await closeBenchDb();
    await removeRedisKeys(prefix);
  }
}
