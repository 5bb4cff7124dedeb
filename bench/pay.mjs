// The full checkout flow on one built instance: many fans, each with a bearer, an ACTIVE token and
// enough cash (users and wallets inserted into MySQL, bearers minted: bench/lib.mjs), hold one seat of a large (500-seat) schedule and pay for it. Every autocannon connection
// loops hold → pay with a fresh fan each time (a payment retires its payer's token), so every
// payment is a real one: row locks, debit + ledger row, receipt, CONFIRMED, SOLD, token expiry.
// The payment step and the hold step are reported as separate rows (latencies split per step).
// A second load pays seats held beforehand (holds not measured): the payment endpoint alone.
// Usage: npm run bench:pay   (env: BENCH_DURATION seconds, default 10; BENCH_PAY_USERS, 16000)
import {
  ADMIT_ALL_ENV,
  api,
  fanHeaders,
  inBatches,
  latencyPercentiles,
  postEach,
  runStandalone,
  seatsAndFans,
  startCpuMeter,
} from './lib.mjs';
import autocannon from 'autocannon';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
// Enough fans for both loads at about the target rate; each fan pays once.
const USERS = Number(process.env.BENCH_PAY_USERS ?? 16_000);
const SEATS_PER_SCHEDULE = 500;
const PRICE = 50_000;
const CONNECTIONS = 50;

export const serverEnv = ADMIT_ALL_ENV;

async function setUp(url) {
  const schedules = Math.ceil(USERS / SEATS_PER_SCHEDULE);
  console.error(
    `[bench:pay] creating ${schedules} schedules of ${SEATS_PER_SCHEDULE} seats, ` +
      `${USERS} fans with cash and ACTIVE tokens`,
  );
  return seatsAndFans(url, {
    title: 'Pay bench',
    label: 'pay-bench',
    seats: schedules * SEATS_PER_SCHEDULE,
    fans: USERS,
    seatsPerSchedule: SEATS_PER_SCHEDULE,
    price: PRICE,
  });
}

function row(name, step, seconds, cpu) {
  return {
    cpu,
    name,
    requests: step.latencies.length,
    rps: Math.round(step.latencies.length / seconds),
    ...latencyPercentiles(step.latencies),
    statuses: step.statuses,
    errors: step.errors,
  };
}

export async function run({ url, duration = DURATION }) {
  const { fans, seats } = await setUp(url);
  const flow = await holdThenPay(url, fans, seats, duration);
  // At most 8,000 pre-held payments: ~10 s at the target rate.
  const end = Math.min(fans.length, flow.used + 8_000);
  const payOnly = await payPreHeld(url, fans.slice(flow.used, end), seats.slice(flow.used, end));
  return [...flow.rows, payOnly];
}

/** Each connection loops hold → pay with the next fresh fan, for `duration` seconds. */
async function holdThenPay(url, fans, seats, duration) {
  let next = 0;
  const steps = {
    hold: { latencies: [], statuses: {}, errors: 0 },
    pay: { latencies: [], statuses: {}, errors: 0 },
  };
  // Connections send one request at a time, so each one's responses alternate hold, pay, hold...
  const stepOf = new Map();

  console.error(`[bench:pay] hold → pay for ${duration} s with ${CONNECTIONS} connections`);
  const cpuMeter = startCpuMeter();
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        setupRequest: (request, context) => {
          const i = next++;
          const fan = fans[i % fans.length];
          context.fan = fan;
          return {
            ...request,
            path: '/reservations',
            headers: fanHeaders(fan),
            body: JSON.stringify(seats[i % seats.length]),
          };
        },
        onResponse: (status, body, context) => {
          context.reservationId = status === 201 ? JSON.parse(body).id : 0;
        },
      },
      {
        method: 'POST',
        setupRequest: (request, context) => ({
          ...request,
          path: '/payments',
          headers: fanHeaders(context.fan),
          // A failed hold leaves id 0: the payment then answers 400 and is counted as such.
          body: JSON.stringify({ reservationIds: [context.reservationId] }),
        }),
      },
    ],
  });
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    const step = stepOf.get(client) === 'hold' ? 'pay' : 'hold';
    stepOf.set(client, step);
    steps[step].latencies.push(responseTime);
    steps[step].statuses[statusCode] = (steps[step].statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const seconds = performance.now() / 1000 - cpuMeter.startedAt;
  const cpu = cpuMeter.stop(seconds);
  steps.pay.errors = result.errors + result.timeouts;
  if (next > fans.length) {
    console.error(`[bench:pay] ran out of fresh fans (${fans.length}); raise BENCH_PAY_USERS`);
  }

  const pay = row(
    `pay (hold → pay flow, ${SEATS_PER_SCHEDULE}-seat schedules)`,
    steps.pay,
    seconds,
    cpu,
  );
  // One CPU figure covers both steps of the flow: it is shown once, on the pay row.
  const hold = row('hold (flow step before each pay)', steps.hold, seconds);
  report('hold → pay flow', pay, seconds);
  // Requests still in flight at the stop may take a few more fans and seats: leave a margin.
  return { rows: [pay, hold], used: Math.min(fans.length, next + 1_000) };
}

/** Holds a seat for each given fan (not measured), then pays all of them under load. */
async function payPreHeld(url, fans, seats) {
  console.error(`[bench:pay] holding a seat for each of ${fans.length} remaining fans`);
  const holds = await inBatches(fans, 100, async (fan, i) => {
    const hold = await api(url, 'POST', '/reservations', seats[i], fanHeaders(fan));
    if (hold.status === 201) {
      return { headers: fanHeaders(fan), body: JSON.stringify({ reservationIds: [hold.body.id] }) };
    }
    console.error(
      `[bench:pay] a setup hold answered ${hold.status} ${hold.body?.code}; fan skipped`,
    );
    return null;
  });
  const held = holds.filter((hold) => hold !== null);
  console.error(`[bench:pay] paying ${held.length} pre-held seats`);
  const step = await postEach(url, '/payments', held, { connections: CONNECTIONS });
  const seconds = step.seconds;
  const pay = row(
    `pay only (pre-held seats, ${SEATS_PER_SCHEDULE}-seat schedules)`,
    step,
    seconds,
    step.cpu,
  );
  report('pay only', pay, seconds);
  return pay;
}

function report(what, pay, seconds) {
  console.log(
    `${what}: ${pay.statuses[201] ?? 0} payments completed in ${seconds.toFixed(1)} s = ` +
      `${Math.round((pay.statuses[201] ?? 0) / seconds)} payments/s; ` +
      `pay p50/p95/p99 = ${pay.p50}/${pay.p95}/${pay.p99} ms`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('pay', { port: 3102, serverEnv, run });
}
