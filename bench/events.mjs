// What the booking events cost and how fast they leave (docs/events.md):
// 1. the payment rate with the outbox on vs off, in the same run: two servers on the same core
//    and database, one with EVENTS_OUTBOX=off, loaded in turn (off, on, off, on) with payments of
//    seats held beforehand; the "on" server also relays to RabbitMQ meanwhile, as production does.
//    The ratio on ÷ off is the figure: raw rates move between runs on a shared machine.
// 2. the relay's rate: a backlog of synthetic events written straight into the outbox, then one
//    relaying server started on it; events per second from its first confirmed event to its last,
//    into a durable queue bound to the exchange (publisher confirms, persistent messages).
// Usage: npm run build && node bench/events.mjs   (env: EVENTS_AMQP_URL, BENCH_EVENTS_ROUND_PAYMENTS)
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import {
  ADMIT_ALL_ENV,
  api,
  benchDb,
  fanHeaders,
  inBatches,
  latencyPercentiles,
  median,
  postEach,
  roundTo,
  runStandalone,
  seatsAndFans,
  startCpuMeter,
  startServer,
  waitForIdleServers,
} from './lib.mjs';

const AMQP_URL = process.env.EVENTS_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const EXCHANGE = process.env.EVENTS_EXCHANGE || 'concert-booking.events';
const BENCH_QUEUE = 'concert-booking.bench-events';
// Payments per round, about 1 s each at this machine's rate; four pairs of rounds (off, then on),
// after an unmeasured warm-up round on each server (a cold server would lose its first round).
// Each pair's ratio is taken on its own and the median reported: other work on a shared box comes
// in bursts, which a pair of adjacent rounds mostly shares.
const ROUND_PAYMENTS = Number(process.env.BENCH_EVENTS_ROUND_PAYMENTS ?? 500);
const WARM_UP_PAYMENTS = 200;
const ROUNDS = ['off', 'on', 'off', 'on', 'off', 'on', 'off', 'on'];
const RELAY_EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 20_000);
const PARTITIONS = 16; // OUTBOX_PARTITIONS
const SEATS_PER_SCHEDULE = 500;
const PRICE = 50_000;
const CONNECTIONS = 50;
const OFF_PORT = 3141;

/** Holds and tokens outlive the setup; the runner's instance relays (JOBS_ENABLED defaults on). */
export const serverEnv = {
  ...ADMIT_ALL_ENV,
  EVENTS_AMQP_URL: AMQP_URL,
  EVENTS_EXCHANGE: EXCHANGE,
};

const log = (line) => console.error(`[bench:events] ${line}`);

async function brokerReachable() {
  try {
    const connection = await amqp.connect(AMQP_URL, { timeout: 3000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** A durable queue bound to every event, as a real consumer would have: confirms then mean disk. */
async function bindBenchQueue() {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
  await channel.assertQueue(BENCH_QUEUE, { durable: true });
  await channel.purgeQueue(BENCH_QUEUE);
  await channel.bindQueue(BENCH_QUEUE, EXCHANGE, '#');
  return {
    async drop() {
      await channel.deleteQueue(BENCH_QUEUE);
      await connection.close();
    },
  };
}

async function backlog() {
  const [rows] = await benchDb().query(
    'SELECT COUNT(*) AS n FROM outbox_events WHERE sent_at IS NULL',
  );
  return Number(rows[0].n);
}

async function waitForEmptyOutbox(maxMs = 60_000) {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if ((await backlog()) === 0) return;
    await sleep(200);
  }
  throw new Error('the relay did not drain the outbox');
}

/**
 * Fans with cash, ACTIVE tokens and one held seat each, the holds taken on both servers in turn
 * (so both have run the hold path before they are measured); returns the pay requests.
 */
async function heldSeats(url, otherUrl, count) {
  const { seats, fans } = await seatsAndFans(url, {
    title: 'Events bench',
    label: 'events-bench',
    seats: count,
    seatsPerSchedule: SEATS_PER_SCHEDULE,
    price: PRICE,
  });
  const payments = await inBatches(fans, 100, async (fan, i) => {
    const headers = fanHeaders(fan);
    const hold = await api(i % 2 ? otherUrl : url, 'POST', '/reservations', seats[i], headers);
    if (hold.status !== 201) throw new Error(`setup hold answered ${hold.status}`);
    return { headers, body: JSON.stringify({ reservationIds: [hold.body.id] }) };
  });
  return payments;
}

async function payRound(url, payments) {
  const round = await postEach(url, '/payments', payments, { connections: CONNECTIONS });
  return { ...round, completed: round.statuses[201] ?? 0 };
}

function merge(rounds) {
  const latencies = rounds.flatMap((r) => r.latencies);
  const statuses = {};
  for (const round of rounds) {
    for (const [code, n] of Object.entries(round.statuses))
      statuses[code] = (statuses[code] ?? 0) + n;
  }
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const completed = rounds.reduce((sum, r) => sum + r.completed, 0);
  const pct = (key) => Math.round(rounds.reduce((s, r) => s + r.cpu[key] * r.seconds, 0) / seconds);
  return {
    rps: Math.round(completed / seconds),
    ...latencyPercentiles(latencies),
    statuses,
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    cpu: { api: pct('api'), db: pct('db'), redis: pct('redis'), generator: pct('generator') },
    completed,
    seconds,
  };
}

/**
 * Synthetic cash.charged events, spread over 1,000 subjects (so over every partition), written
 * straight into the outbox in one transaction: the relay sees the whole backlog at once.
 */
async function writeBacklog(count) {
  const connection = await benchDb().getConnection();
  try {
    const subjects = Array.from({ length: 1000 }, () => randomUUID());
    await connection.beginTransaction();
    const [[{ first }]] = await connection.query(
      'SELECT COALESCE(MAX(id), 0) + 1 AS first FROM outbox_events',
    );
    for (let start = 0; start < count; start += 1000) {
      const rows = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const userId = subjects[i % subjects.length];
        const subject = `user/${userId}`;
        const balance = (Math.floor(i / subjects.length) + 1) * 1000;
        rows.push([
          randomUUID(),
          'cash.charged',
          subject,
          crc32(subject) % PARTITIONS,
          JSON.stringify({ userId, balance, amount: 1000 }),
          new Date(),
        ]);
      }
      await connection.query(
        'INSERT INTO outbox_events (event_id, type, subject, partition_no, data, created_at) VALUES ?',
        [rows],
      );
    }
    await connection.commit();
    return first;
  } finally {
    connection.release();
  }
}

/** The relaying server's rate on a backlog: from its first confirmed event to its last. */
async function relayRate() {
  const cpuMeter = startCpuMeter();
  const firstId = await writeBacklog(RELAY_EVENTS);
  log(`relay: ${RELAY_EVENTS} events committed at once; waiting for the relay to drain them`);
  await waitForEmptyOutbox();
  const [[span]] = await benchDb().query(
    `SELECT COUNT(*) AS n, TIMESTAMPDIFF(MICROSECOND, MIN(sent_at), MAX(sent_at)) AS us
       FROM outbox_events WHERE id >= ?`,
    [firstId],
  );
  const seconds = Number(span.us) / 1e6;
  return {
    name: `relay: ${span.n} events to RabbitMQ (one instance, durable queue bound, confirms)`,
    rps: Math.round(Number(span.n) / seconds),
    p50: '',
    p95: '',
    p99: '',
    statuses: {},
    errors: 0,
    cpu: cpuMeter.stop(),
    seconds,
    events: Number(span.n),
  };
}

export async function run({ url, serverEnv: env = serverEnv, serverCpu }) {
  if (!(await brokerReachable())) {
    throw new Error(`RabbitMQ does not answer at ${new URL(AMQP_URL).host} (EVENTS_AMQP_URL)`);
  }
  const queue = await bindBenchQueue();
  const off = await startServer({
    port: OFF_PORT,
    env: { ...env, EVENTS_OUTBOX: 'off', EVENTS_AMQP_URL: '' },
    cpu: serverCpu,
  });
  try {
    const seats = ROUNDS.length * ROUND_PAYMENTS + 2 * WARM_UP_PAYMENTS;
    log(`holding ${seats} seats for ${ROUNDS.length} rounds and a warm-up on each server`);
    const all = await heldSeats(url, off.url, seats);
    await payRound(off.url, all.slice(0, WARM_UP_PAYMENTS));
    await payRound(url, all.slice(WARM_UP_PAYMENTS, 2 * WARM_UP_PAYMENTS));
    const payments = all.slice(2 * WARM_UP_PAYMENTS);
    // The holds' own events must be gone before the "on" rounds are measured.
    await waitForEmptyOutbox();
    await waitForIdleServers();
    const rounds = { on: [], off: [] };
    for (const [i, mode] of ROUNDS.entries()) {
      const slice = payments.slice(i * ROUND_PAYMENTS, (i + 1) * ROUND_PAYMENTS);
      const round = await payRound(mode === 'on' ? url : off.url, slice);
      log(
        `round ${i + 1} (outbox ${mode}): ${Math.round(round.completed / round.seconds)} payments/s`,
      );
      rounds[mode].push(round);
      await waitForEmptyOutbox();
      await waitForIdleServers();
    }
    const on = merge(rounds.on);
    const offMerged = merge(rounds.off);
    const relay = await relayRate();
    const rows = [
      { name: 'outbox off: payments of pre-held seats (EVENTS_OUTBOX=off)', ...offMerged },
      { name: 'outbox on: payments of pre-held seats, relay publishing', ...on },
      relay,
    ];
    const pairRatios = rounds.on.map(
      (round, i) =>
        Math.round(
          (round.completed / round.seconds / (rounds.off[i].completed / rounds.off[i].seconds)) *
            100,
        ) / 100,
    );
    rows.summary = {
      ratio: Math.round((on.rps / offMerged.rps) * 1000) / 1000,
      pairRatios,
      medianPairRatio: roundTo(median(pairRatios)),
      onRps: on.rps,
      offRps: offMerged.rps,
      rounds: ROUNDS.length,
      paymentsPerRound: ROUND_PAYMENTS,
      relayEventsPerSecond: relay.rps,
      relayEvents: relay.events,
      relaySeconds: roundTo(relay.seconds),
    };
    return rows;
  } finally {
    await off.stop();
    await queue.drop();
  }
}

/** One line per figure, for the console and docs/benchmarks.md. */
export function summaryLines(summary) {
  return [
    `payment rate with the outbox on ÷ off: median of ${summary.pairRatios.length} pairs ` +
      `${Math.round(summary.medianPairRatio * 100)}% (pairs ${summary.pairRatios.join(', ')}; ` +
      `all rounds ${summary.onRps} vs ${summary.offRps} payments/s = ` +
      `${Math.round(summary.ratio * 100)}%; rounds of ${summary.paymentsPerRound} payments, ` +
      '50 connections, off then on; "on" relays to RabbitMQ meanwhile, on the same core)',
    `relay: ${summary.relayEvents} events in ${summary.relaySeconds} s = ` +
      `${summary.relayEventsPerSecond} events/s to RabbitMQ (one instance, bursts of up to 4 × 250, ` +
      'publisher confirms, persistent messages into a durable queue)',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('events', {
    port: 3140,
    serverEnv,
    run,
    after: (rows) => console.log(summaryLines(rows.summary).join('\n')),
  });
}
