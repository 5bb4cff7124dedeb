// The full flow for many users with realistic think time: sign up, log in, top up cash, queue
// until ACTIVE, browse schedules and seats, hold one or two seats, pay. A ramping number of users,
// as the audience builds up after the on-sale announcement.
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... \
//          -e PEAK_VUS=300 -e SCHEDULES=5 -e SEATS_PER_SCHEDULE=500 -e THINK_SECONDS=2 k6/booking.js
//
// Every iteration is a new account: the stack must allow the sign-ups (AUTH_SIGNUPS_PER_HOUR=0 or
// high enough, since all VUs share one client address). Each user logs in through POST /auth/tokens
// (argon2), unless -e AUTH_JWT_SECRET=... lets the script sign its tokens itself.
// Users who find every seat taken end without paying (counted in `sold_out`), as they would.
import { check, group, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import * as api from './lib/api.js';
import { newRunId } from './lib/auth.js';
import { floatEnv, intEnv } from './lib/config.js';

const PEAK_VUS = intEnv('PEAK_VUS', 300);
const SCHEDULES = intEnv('SCHEDULES', 5);
const SEATS_PER_SCHEDULE = intEnv('SEATS_PER_SCHEDULE', 500);
const PRICE = intEnv('PRICE', 50000);
const THINK_SECONDS = floatEnv('THINK_SECONDS', 2);
const MAX_QUEUE_WAIT_SECONDS = intEnv('MAX_QUEUE_WAIT_SECONDS', 300);

const timeToActive = new Trend('time_to_active', true);
const bookings = new Counter('bookings_completed');
const soldOut = new Counter('sold_out');
const queueTimeouts = new Counter('queue_timeouts');

export const options = {
  setupTimeout: '2m',
  scenarios: {
    audience: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: __ENV.RAMP || '1m', target: PEAK_VUS },
        { duration: __ENV.HOLD || '3m', target: PEAK_VUS },
        { duration: '30s', target: 0 },
      ],
      gracefulRampDown: '60s',
    },
  },
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:GET /queue/status}': ['p(95)<100'],
    'http_req_duration{name:POST /reservations}': ['p(95)<300'],
    'http_req_duration{name:POST /payments}': ['p(95)<300'],
    bookings_completed: ['count>0'],
  },
};

export function setup() {
  const concert = api.createConcert(`k6 booking ${Date.now()}`);
  const scheduleIds = [];
  for (let i = 0; i < SCHEDULES; i++) {
    scheduleIds.push(
      api.createOpenSchedule(concert.id, { seatCount: SEATS_PER_SCHEDULE, price: PRICE }).id,
    );
  }
  return { concertId: concert.id, scheduleIds, runId: newRunId() };
}

function think() {
  // Uniform in [0.5, 1.5] × THINK_SECONDS: people do not click in lockstep.
  sleep(THINK_SECONDS * (0.5 + Math.random()));
}

function pick(items) {
  return items[Math.floor(Math.random() * items.length)];
}

export default function booking({ concertId, runId }) {
  const user = api.createUser(
    `k6 fan ${__VU}-${__ITER}`,
    api.userEmail(runId, `${__VU}-${__ITER}`),
  );
  if (!user) return;
  const auth = user.accessToken;
  const wanted = Math.random() < 0.3 ? 2 : 1;
  check(api.charge(auth, wanted * PRICE), { 'charge: 200': (r) => r.status === 200 });
  think();

  const entered = api.enterQueue(auth, concertId, MAX_QUEUE_WAIT_SECONDS);
  if (!entered) {
    queueTimeouts.add(1);
    return;
  }
  timeToActive.add(entered.waitedMs);
  const token = entered.token;

  const held = [];
  group('choose seats', () => {
    const open = api.schedules(auth, token, concertId);
    check(open, { 'schedules: 200': (r) => r.status === 200 });
    const candidates = api.json(open).filter((s) => s.availableSeats > 0);
    if (candidates.length === 0) return;
    const schedule = pick(candidates);
    think();
    const seatMap = api.seats(auth, token, concertId, schedule.id);
    check(seatMap, { 'seats: 200': (r) => r.status === 200 });
    const free = api.json(seatMap).filter((s) => s.status === 'AVAILABLE');
    // Up to three tries: someone else may take the seat between the map and the click.
    let misses = 0;
    while (held.length < wanted && misses < 3 && free.length > 0) {
      const seat = free.splice(Math.floor(Math.random() * free.length), 1)[0];
      const response = api.hold(auth, token, schedule.id, seat.id);
      if (response.status === 201) {
        held.push(api.json(response).id);
      } else {
        misses++;
        api.checkProblem(response, 409, 'SEAT_UNAVAILABLE', 'hold lost to another fan');
      }
    }
  });
  if (held.length === 0) {
    soldOut.add(1);
    return;
  }
  think();

  group('pay', () => {
    const paid = api.pay(auth, token, held, `k6-${user.id}`);
    check(paid, {
      'pay: 201 COMPLETED': (r) => r.status === 201 && api.json(r).status === 'COMPLETED',
      'pay: amount': (r) => api.json(r).amount === held.length * PRICE,
    });
    if (paid.status === 201) bookings.add(1);
    check(api.payments(auth), {
      'my payments: listed': (r) => r.status === 200 && api.list(r).length === 1,
    });
  });
}
