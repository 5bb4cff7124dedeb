// Many users race for the same few seats at the same instant: each seat must be won by at most
// one user, every loser must get 409 SEAT_UNAVAILABLE, and the seat map must agree afterwards.
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... -e USERS=200 -e SEATS=5 k6/seat-race.js
//
// All racers first become ACTIVE (the admission job admits QUEUE_ADMIT_PER_SECOND a second), so
// QUEUE_MAX_ACTIVE_USERS must be ≥ USERS; they then fire at one agreed instant. setup() signs up
// USERS + 1 users (AUTH_SIGNUPS_PER_HOUR=0 or high enough on the stack); with -e AUTH_JWT_SECRET=...
// their tokens are signed here, otherwise each logs in once during setup().
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import exec from 'k6/execution';
import * as api from './lib/api.js';
import { accessTokenOf, newRunId } from './lib/auth.js';
import { intEnv } from './lib/config.js';

const USERS = intEnv('USERS', 200);
const SEATS = intEnv('SEATS', 5);
const ADMIT_PER_SECOND = intEnv('ADMIT_PER_SECOND', 100);
// Time for every racer to be admitted before the race starts.
const WARMUP_SECONDS = intEnv('WARMUP_SECONDS', Math.ceil(USERS / ADMIT_PER_SECOND) + 10);

const wins = new Counter('seat_holds_won');
const losses = new Counter('seat_holds_lost');

const seatThresholds = {};
for (let i = 0; i < SEATS; i++) seatThresholds[`seat_holds_won{seat:${i}}`] = ['count<=1'];

export const options = {
  setupTimeout: '5m',
  scenarios: {
    race: {
      executor: 'per-vu-iterations',
      vus: USERS,
      iterations: 1,
      maxDuration: `${WARMUP_SECONDS + 120}s`,
    },
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    // Exactly SEATS winners in total (at most one per seat, below), everyone else lost.
    seat_holds_won: [`count==${SEATS}`],
    seat_holds_lost: [`count==${USERS - SEATS}`],
    ...seatThresholds,
  },
};

export function setup() {
  const concert = api.createConcert(`k6 seat race ${Date.now()}`);
  const schedule = api.createOpenSchedule(concert.id, { seatCount: Math.max(SEATS, 1) });
  // The admin answer lists the new seats; otherwise each racer reads the seat map itself.
  const seatIds = schedule.seats ? schedule.seats.map((s) => s.id) : undefined;
  const users = api.createUsers(USERS + 1, 0, newRunId(), 'k6 racer');
  return {
    concertId: concert.id,
    scheduleId: schedule.id,
    seatIds,
    observer: users.pop(),
    users,
    raceAt: Date.now() + WARMUP_SECONDS * 1000,
  };
}

export default function race({ concertId, scheduleId, seatIds, users, raceAt }) {
  const index = exec.vu.idInTest - 1;
  const auth = accessTokenOf(users[index]);
  const entered = api.enterQueue(auth, concertId, WARMUP_SECONDS);
  if (!entered) return;
  let ids = seatIds;
  if (!ids) ids = api.json(api.seats(auth, entered.token, concertId, scheduleId)).map((s) => s.id);
  // Racers spread evenly over the contested seats.
  const seat = index % SEATS;

  const wait = (raceAt - Date.now()) / 1000;
  if (wait > 0) sleep(wait);

  const response = api.hold(auth, entered.token, scheduleId, ids[seat]);
  if (response.status === 201) {
    wins.add(1, { seat: String(seat) });
    check(response, { 'hold: HELD': (r) => api.json(r).status === 'HELD' });
  } else {
    losses.add(1);
    api.checkProblem(response, 409, 'SEAT_UNAVAILABLE', 'lost race');
  }
}

export function teardown({ concertId, scheduleId, observer }) {
  const auth = accessTokenOf(observer);
  const entered = api.enterQueue(auth, concertId, 60);
  if (!entered) return;
  const seatList = api.json(api.seats(auth, entered.token, concertId, scheduleId));
  check(seatList, {
    // Every seat was contested, so every seat is HELD now, once (the counters say by whom).
    'seat map: every seat HELD': (list) =>
      list.length === SEATS && list.every((s) => s.status === 'HELD'),
  });
}
