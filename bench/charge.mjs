// Cash charges per second on one instance: spread over many users, piled on one user (the row
// lock serialises them), and with a fresh Idempotency-Key on every request; plus a balance read
// as a reference for what the HTTP stack alone costs on this machine at this moment. Every call
// carries the user's bearer (users inserted into MySQL, bearers minted: bench/lib.mjs) and
// names the user's own id in the path.
// Usage: npm run build && node bench/charge.mjs   (env: BENCH_DURATION seconds, default 10)
import { setTimeout as sleep } from 'node:timers/promises';
import { api, insertUsers, load, runStandalone } from './lib.mjs';

const USERS = 200;
const AMOUNT = 100; // small, so 10 s at any rate stays far below the 100,000,000 balance limit
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;

async function balanceOf(url, user) {
  // Right after a load the instance may still shed requests (503 + Retry-After): wait and retry.
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await api(url, 'GET', `/users/${user.id}/cash`, undefined, user.auth);
    if (response.status === 200) return response.body.balance;
    await sleep(200);
  }
  throw new Error(`GET /users/${user.id}/cash kept failing`);
}

async function balances(url, users) {
  let sum = 0;
  for (let start = 0; start < users.length; start += 20) {
    const batch = await Promise.all(
      users.slice(start, start + 20).map((user) => balanceOf(url, user)),
    );
    sum += batch.reduce((a, b) => a + b, 0);
  }
  return sum;
}

function chargeRequest(pickUser, withKey) {
  let n = 0;
  const body = JSON.stringify({ amount: AMOUNT });
  return {
    method: 'POST',
    setupRequest: (request) => {
      const user = pickUser();
      return {
        ...request,
        path: `/users/${user.id}/cash/charges`,
        headers: {
          ...request.headers,
          ...user.auth,
          'content-type': 'application/json',
          ...(withKey ? { 'idempotency-key': `bench-${process.pid}-${Date.now()}-${n++}` } : {}),
        },
        body,
      };
    },
  };
}

export async function run({ url, duration = DURATION }) {
  const users = await insertUsers(USERS, 'charge-bench');
  const random = () => users[Math.floor(Math.random() * users.length)];
  const rows = [];
  const before = await balances(url, users);

  const spread = await load(`charge, ${USERS} users`, {
    url,
    duration,
    connections: CONNECTIONS,
    requests: [chargeRequest(random, false)],
  });
  rows.push(spread);
  const hot = await load('charge, 1 user (row lock)', {
    url,
    duration,
    connections: CONNECTIONS,
    requests: [chargeRequest(() => users[0], false)],
  });
  rows.push(hot);
  const keyed = await load(`charge + Idempotency-Key, ${USERS} users`, {
    url,
    duration,
    connections: CONNECTIONS,
    requests: [chargeRequest(random, true)],
  });
  rows.push(keyed);
  // Reference on the same instance: a read of one row through the same HTTP stack, no transaction.
  rows.push(
    await load(`balance read (reference), ${USERS} users`, {
      url,
      duration,
      connections: CONNECTIONS,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            const user = random();
            return {
              ...request,
              path: `/users/${user.id}/cash`,
              headers: { ...request.headers, ...user.auth },
            };
          },
        },
      ],
    }),
  );

  // No lost update: the balances grew by exactly one AMOUNT per charge the server applied. That is
  // every 200 plus the requests still in flight when autocannon stopped (at most one per
  // connection per load), which the server completes although nobody reads the answer.
  const answered = [spread, hot, keyed].reduce((sum, row) => sum + (row.statuses[200] ?? 0), 0);
  const applied = ((await balances(url, users)) - before) / AMOUNT;
  const inFlight = applied - answered;
  // (--instances 3 rounds connections up to a multiple of 3, hence the + 2.)
  const maxInFlight = 3 * (CONNECTIONS + 2);
  const consistent = Number.isInteger(applied) && inFlight >= 0 && inFlight <= maxInFlight;
  console.log(
    `ledger check: ${applied} charges applied = ${answered} answered 200 + ${inFlight} in flight ` +
      `at stop (<= ${maxInFlight}) -> ${consistent ? 'OK' : 'MISMATCH'}`,
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('charge', { port: 3101, run });
}
