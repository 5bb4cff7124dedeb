// What one request of each hot path costs a backing server, from that server's own counters
// (MySQL's user statistics in db-statements.mjs, Redis's commandstats in redis-ops.mjs): the same
// fans, seats and requests in both, so their figures add up to one request's cost. Background
// work (the admission job, the settings refresh, the relay, ...) is measured over an idle window
// and subtracted per second of load.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ADMIT_ALL_ENV,
  api,
  BENCH_DB_NAME,
  createBookableSeats,
  inBatches,
  insertUsers,
  waitUntilActive,
} from './lib.mjs';

/** Few enough in flight that each request's cost is its own, not queueing's. */
export const CONCURRENCY = 10;
const IDLE_WINDOW_MS = 4_000;

/** The outbox relays to RabbitMQ as in production: its publishing is part of what a payment costs. */
export const SERVER_ENV = {
  ...ADMIT_ALL_ENV,
  EVENTS_AMQP_URL: process.env.EVENTS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

/** `--requests` (per path), with the script's default. */
export function requestsOption(defaultCount) {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: String(defaultCount) } },
  });
  return Number(values.requests);
}

/** The first words of the printed table's title. */
export const headline = (what, requests) =>
  `${what} work per request (${requests} requests each, ${CONCURRENCY} in flight, database ${BENCH_DB_NAME}; `;

/**
 * `count` fans with cash and a seat each, and the requests of every path, one per fan in order:
 * `issue` (a newcomer's token), `admitted` (waits until every fan is ACTIVE), `poll`, `seatMap`,
 * `hold` (fan i holds seat i) and `pay` (fan i pays its hold; with `idempotencyKeys`, keyed).
 * Each returns the number of answers, all of them checked.
 */
export async function bookingPaths(url, { title, label, count }) {
  const seats = await createBookableSeats(url, {
    title,
    count,
    seatsPerSchedule: 500,
    price: 1000,
  });
  const fans = await insertUsers(count, label, { balance: 100_000 });
  const tokens = new Array(count);
  const reservations = new Array(count);
  const headers = (i) => ({ ...fans[i].auth, 'queue-token': tokens[i] });
  const each = async (call, expected, what) => {
    const indexes = fans.map((_, i) => i);
    const statuses = await inBatches(indexes, CONCURRENCY, async (i) => (await call(i)).status);
    const wrong = statuses.filter((s) => !expected.includes(s));
    if (wrong.length > 0)
      throw new Error(`${what}: ${wrong.length} answers not ${expected}: ${wrong[0]}`);
    return statuses.length;
  };
  const seatMap = `/concerts/${seats.concertId}/schedules/${seats[0].scheduleId}/seats`;
  return {
    issue: () =>
      each(
        async (i) => {
          const body = { concertId: seats.concertId };
          const issued = await api(url, 'POST', '/queue/tokens', body, fans[i].auth);
          tokens[i] = issued.body?.token;
          return issued;
        },
        [200, 201],
        'token issue',
      ),
    admitted: () => waitUntilActive(url, tokens.at(-1)),
    poll: () => each((i) => api(url, 'GET', '/queue/status', undefined, headers(i)), [200], 'poll'),
    seatMap: () => each((i) => api(url, 'GET', seatMap, undefined, headers(i)), [200], 'seat map'),
    hold: () =>
      each(
        async (i) => {
          const held = await api(url, 'POST', '/reservations', seats[i], headers(i));
          reservations[i] = held.body?.id;
          return held;
        },
        [201],
        'hold',
      ),
    pay: ({ idempotencyKeys = false } = {}) =>
      each(
        (i) =>
          api(
            url,
            'POST',
            '/payments',
            { reservationIds: [reservations[i]] },
            idempotencyKeys ? { ...headers(i), 'idempotency-key': `pay-${i}` } : headers(i),
          ),
        [201],
        'payment',
      ),
  };
}

/**
 * Reads a server's counters: `read()` gives a snapshot, `minus(after, before)` what was spent
 * between two. `idle()` measures the background per second (and returns it as `rate(key)`);
 * `perRequest(work, { settleMs })` runs `work` (it returns how many requests it answered), waits
 * `settleMs` for work the requests leave behind, and returns `{ answered, used, net(key) }`:
 * the counter's growth per request with the background over the same time taken out.
 */
export function counterMeter(read, minus) {
  let rate = () => 0;
  return {
    async idle() {
      const before = await read();
      await sleep(IDLE_WINDOW_MS);
      const used = minus(await read(), before);
      rate = (key) => used[key] / (IDLE_WINDOW_MS / 1000);
      return rate;
    },
    async perRequest(work, { settleMs = 0 } = {}) {
      const before = await read();
      const started = performance.now();
      const answered = await work();
      if (settleMs > 0) await sleep(settleMs);
      const seconds = (performance.now() - started) / 1000;
      const used = minus(await read(), before);
      const net = (key) => Math.max(0, used[key] - rate(key) * seconds) / answered;
      return { answered, used, net };
    },
  };
}
