// The waiting queue under load on one built instance: token issue by newcomers (bearer check with
// the first-sight user lookup, concert check, join script), token issue by returning users (bearer
// check, same token back, Redis only) and status polling on a realistic line (most WAITING, some
// ACTIVE; one Lua script per poll; no bearer). Users are inserted into MySQL and their access
// tokens minted with the bench's secret (bench/lib.mjs).
// Usage: npm run bench:queue   (env: BENCH_DURATION seconds, default 10; BENCH_QUEUE_USERS, 15000)
import os from 'node:os';
import {
  createConcert,
  insertUsers,
  load,
  pollRequests,
  runStandalone,
  tokenRequests,
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

export async function run({ url, duration = DURATION }) {
  const rows = [];
  console.error(`[bench:queue] creating ${USERS} users`);
  const concertId = await createConcert(url, 'Queue bench');
  const users = await insertUsers(USERS, 'queue-bench');

  // 1. Every request a user who has never asked: 201, the MySQL lookup batched, the join script.
  const tokens = [];
  rows.push(
    await load(`token issue, ${USERS} newcomers (201)`, {
      url,
      connections: CONNECTIONS,
      amount: users.length,
      requests: tokenRequests(users, concertId, { onToken: (token) => tokens.push(token) }),
    }),
  );
  if (tokens.length === 0) throw new Error('no token was issued');

  // 2. The same users asking again (a reload, a retry): their live token back, Redis only.
  rows.push(
    await load('token issue, returning users (200)', {
      url,
      connections: CONNECTIONS,
      duration,
      requests: tokenRequests(users, concertId),
    }),
  );

  // 3. Status polls cycling through every token: position, measured-rate ETA, poll hint.
  rows.push(
    await load(`status poll, ${tokens.length} in line`, {
      url,
      connections: CONNECTIONS,
      duration,
      requests: pollRequests(tokens),
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

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('queue', {
    port: 3111,
    pinGenerator: true,
    serverEnv,
    run,
    after: (_rows, { pinned }) =>
      console.log(
        `\n${pinned ? 'server pinned to CPU 0, load generator to CPU 1' : 'not pinned'}; ` +
          `MySQL and Redis on the same box; ${os.cpus().length} cores; non-2xx per row under statuses`,
      ),
  });
}
