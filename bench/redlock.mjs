// Seat holds with the seat lock on the main Redis (REDIS_LOCK_NODES unset: redis-semaphore's
// Mutex) against Redlock over three private redis-server masters (RedlockMutex), alternating
// rounds on one built instance, for the cost of the quorum (issue 14 part 2). Each round is
// bench/reserve.mjs's run: holds on distinct seats, then the 1,000-way race for one seat.
// Usage: npm run build && node bench/redlock.mjs   (env: BENCH_DURATION seconds, default 5;
// BENCH_ROUNDS per mode, default 2)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { closeBenchDb, printTable, removeRedisKeys, startServer } from './lib.mjs';
import { run, serverEnv } from './reserve.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LOCK_PORTS = [17_101, 17_102, 17_103];

async function startMaster(port) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return child;
    } catch {
      await sleep(100);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server on ${port} did not start`);
}

const masters = await Promise.all(LOCK_PORTS.map(startMaster));
const modes = [
  { name: 'main Redis (Mutex)', env: {} },
  {
    name: '3 lock masters (RedlockMutex)',
    env: { REDIS_LOCK_NODES: LOCK_PORTS.map((p) => `redis://127.0.0.1:${p}/0`).join(',') },
  },
];
const rows = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes) {
      const prefix = `bench:redlock:${Date.now()}:`;
      const server = await startServer({
        port: 3104,
        cpu: 0,
        env: { ...serverEnv, ...mode.env, REDIS_KEY_PREFIX: prefix },
      });
      try {
        const [holds, race] = await run({ url: server.url, duration: DURATION });
        rows.push({ ...holds, name: `${mode.name}, round ${round + 1}: ${holds.name}` });
        rows.push({ ...race, name: `${mode.name}, round ${round + 1}: ${race.name}` });
      } finally {
        await server.stop();
        await removeRedisKeys(prefix);
      }
    }
  }
  printTable(rows);
  const holdRps = (mode) =>
    rows.filter((r) => r.name.startsWith(mode.name) && r.name.includes('distinct'));
  const mean = (list) => list.reduce((sum, r) => sum + r.rps, 0) / list.length;
  const [single, quorum] = modes.map((mode) => mean(holdRps(mode)));
  console.log(
    `holds/s: main Redis ${Math.round(single)}, 3 lock masters ${Math.round(quorum)}, ` +
      `ratio ${(quorum / single).toFixed(2)}`,
  );
} finally {
  await closeBenchDb();
  await Promise.all(
    masters.map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
}
