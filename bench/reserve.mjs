// Seat holds on one built instance. Two loads:
//  1. holds on distinct seats: 50 connections, each request the next never-held seat of a set of
//     500-seat schedules, each by a fan with a bearer and an ACTIVE token (at most 4 holds per
//     fan, the production limit, each in another schedule), so every request is a real hold:
//     bearer check, token check, seat lock, transaction, commit;
//  2. the on-sale race: 1,000 fans ask for the same seat at the same instant; exactly one 201 is
//     expected, 999 x 409, and every answer within 1 s.
// Usage: npm run bench:reserve   (env: BENCH_DURATION seconds, default 10)
import {
  ADMIT_ALL_ENV,
  createBookableSeats,
  fanHeaders,
  fansWithTokens,
  latencyPercentiles,
  load,
  runStandalone,
  startCpuMeter,
  waitUntilActive,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const SEATS_PER_SCHEDULE = 500;
// Enough never-held seats for the run at up to this rate; more would only slow the setup.
const MAX_HOLDS_PER_SECOND = 3_000;
const HOLDS_PER_FAN = 4;
const RACERS = 1_000;

/**
 * Everyone admitted at once (the waiting room is not what this measures), tokens and holds that
 * outlive setup and run, and room for the 1,000 simultaneous requests of the race: the overload
 * guard's default in-flight cap (512) would shed part of them with 503 before they reach a hold.
 */
export const serverEnv = {
  ...ADMIT_ALL_ENV,
  OVERLOAD_MAX_IN_FLIGHT: '2000',
};

/** Fans inserted into MySQL with minted bearers, each with a queue token for the concert. */
const createFans = (url, count, label, concertId) =>
  fansWithTokens(url, { count, label, concertId });

async function createSeats(url, count) {
  const seats = await createBookableSeats(url, {
    title: 'Reserve bench',
    count,
    seatsPerSchedule: SEATS_PER_SCHEDULE,
  });
  return { concertId: seats.concertId, bodies: seats.map((seat) => JSON.stringify(seat)) };
}

async function setUp(url, duration) {
  const seatCount = duration * MAX_HOLDS_PER_SECOND;
  const fanCount = Math.ceil(seatCount / HOLDS_PER_FAN);
  console.error(
    `[bench:reserve] creating ${seatCount} seats in ${SEATS_PER_SCHEDULE}-seat schedules`,
  );
  const { concertId, bodies: seats } = await createSeats(url, seatCount + 1);
  console.error(`[bench:reserve] creating ${fanCount + RACERS} fans with ACTIVE tokens`);
  const fans = await createFans(url, fanCount, 'reserve-bench', concertId);
  const racers = await createFans(url, RACERS, 'reserve-race', concertId);
  await waitUntilActive(url, racers.at(-1).token);
  return { fans, racers, seats };
}

/** Distinct seats, so every request is a winning hold (no 409 fast path). */
async function holdDistinctSeats(url, fans, seats, duration) {
  let next = 0;
  console.error(`[bench:reserve] holds on distinct seats for ${duration} s`);
  const row = await load(`hold (distinct seats, ${SEATS_PER_SCHEDULE}-seat schedules)`, {
    url,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/reservations',
        setupRequest: (request) => {
          // Fan i % fans holds seats i, i + fans, ...: at most HOLDS_PER_FAN each, and (fans
          // outnumber the seats of a schedule) each in another schedule: the purchase limit
          // (RESERVATION_MAX_SEATS_PER_SCHEDULE) is never what answers.
          const i = next++;
          const fan = fans[i % fans.length];
          return {
            ...request,
            headers: fanHeaders(fan),
            body: seats[i % seats.length],
          };
        },
      },
    ],
  });
  if (next > seats.length) {
    console.error('[bench:reserve] ran out of never-held seats: the tail measured 409s');
  }
  return row;
}

/** 1,000 requests for one seat, all sent at once; latency of each, measured by the client. */
async function raceForOneSeat(url, racers, seat) {
  console.error(`[bench:reserve] ${racers.length} fans race for one seat`);
  const cpuMeter = startCpuMeter();
  const results = await Promise.all(
    racers.map(async (fan) => {
      const sent = performance.now();
      try {
        const response = await fetch(`${url}/reservations`, {
          method: 'POST',
          headers: fanHeaders(fan),
          body: seat,
        });
        const body = await response.json();
        return { status: response.status, code: body.code, ms: performance.now() - sent };
      } catch {
        return { status: 0, ms: performance.now() - sent };
      }
    }),
  );
  const seconds = performance.now() / 1000 - cpuMeter.startedAt;
  const cpu = cpuMeter.stop(seconds);
  const latencies = results.map((r) => r.ms);
  const statuses = {};
  const codes = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const key = r.code ? `${r.status} ${r.code}` : String(r.status);
    codes[key] = (codes[key] ?? 0) + 1;
  }
  const max = Math.round(Math.max(...latencies));
  console.log(
    `race: ${results.length} requests for one seat answered in ${Math.round(seconds * 1000)} ms ` +
      `(slowest ${max} ms): ${JSON.stringify(codes)}`,
  );
  return {
    cpu,
    name: `race: ${racers.length} holds of one seat at once (all answered in ${max} ms)`,
    requests: results.length,
    rps: Math.round(results.length / seconds),
    ...latencyPercentiles(latencies),
    statuses,
    errors: results.filter((r) => r.status === 0).length,
  };
}

export async function run({ url, duration = DURATION }) {
  const { fans, racers, seats } = await setUp(url, duration);
  const raceSeat = seats.pop();
  const holds = await holdDistinctSeats(url, fans, seats, duration);
  const race = await raceForOneSeat(url, racers, raceSeat);
  return [holds, race];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('reserve', { port: 3103, serverEnv, run });
}
