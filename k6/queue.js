// Waiting-room load for one concert's waiting room, two populations at once:
// - `join`: fans pressing "join" at ISSUE_RATE tokens a second (open model: the rate is held
//   whatever the latency, as on an on-sale morning), round robin over USERS accounts, so most
//   answers are 200 with the caller's live token (a re-join keeps the place and counts as a poll);
// - `wait`: WAITERS fans in line, one VU each, who join once and then poll GET /queue/status as a
//   well-behaved client does: they sleep exactly the `pollAfterSeconds` of the last answer (also
//   its Retry-After), never a timer of their own. Their poll rate is therefore the server's choice:
//   about WAITERS / the mean hint (the summary's `poll_after_seconds`), at most WAITERS a second.
// setup() signs up USERS + WAITERS users (the stack must allow it: AUTH_SIGNUPS_PER_HOUR=0 or
// higher); pass -e AUTH_JWT_SECRET=... to sign their access tokens here instead of logging each
// one in. Joins are writes counted by RATE_LIMIT_USER_WRITES_PER_MINUTE: keep
// ISSUE_RATE × 60 / USERS below it. Sizes and rates from __ENV:
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... \
//          -e USERS=2000 -e ISSUE_RATE=500 -e WAITERS=1000 -e DURATION=60s k6/queue.js
//
// Targets (docs/benchmarks.md): status poll p99 ≤ 30 ms, no 5xx. Raise QUEUE_P99_MS when the
// generator is far from the service.
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Trend } from 'k6/metrics';
import * as api from './lib/api.js';
import { accessTokenOf, newRunId } from './lib/auth.js';
import { durationSeconds, intEnv } from './lib/config.js';

if (__ENV.POLL_RATE !== undefined) {
  throw new Error(
    'POLL_RATE is gone: waiting clients poll when the server says (pollAfterSeconds), so the ' +
      'poll rate follows from the crowd. Size the crowd with WAITERS (see k6/README.md).',
  );
}

const USERS = intEnv('USERS', 2000);
const ISSUE_RATE = intEnv('ISSUE_RATE', 500);
const WAITERS = intEnv('WAITERS', 1000);
const DURATION = __ENV.DURATION || '60s';
const DURATION_MS = durationSeconds(DURATION) * 1000;
const QUEUE_P99_MS = intEnv('QUEUE_P99_MS', 30);
// Optional settings of the test's room (unset: the service's QUEUE_* defaults). A line only
// stands while the room is full, so cap ROOM_MAX_ACTIVE below the crowd to load the polls of
// waiting fans; the longest hint is a third of ROOM_IDLE_SECONDS (at most 60 s). With
// ROOM_START_IN_SECONDS the room is RANDOM_AT_START, starting that long after setup(): until
// then every WAITING answer has `position: null`, and its hint is the time left (at most the
// longest).
const ROOM_MAX_ACTIVE = intEnv('ROOM_MAX_ACTIVE', 0);
const ROOM_ADMIT_PER_SECOND = intEnv('ROOM_ADMIT_PER_SECOND', 0);
const ROOM_IDLE_SECONDS = intEnv('ROOM_IDLE_SECONDS', 0);
const ROOM_START_IN_SECONDS = intEnv('ROOM_START_IN_SECONDS', 0);

// The hints the waiting clients were given (seconds): their poll rate is WAITERS / the mean.
const pollHints = new Trend('poll_after_seconds');

export const options = {
  setupTimeout: '5m',
  scenarios: {
    join: {
      executor: 'constant-arrival-rate',
      exec: 'join',
      rate: ISSUE_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(ISSUE_RATE / 20)),
      maxVUs: Math.max(50, ISSUE_RATE),
    },
    wait: {
      executor: 'constant-vus',
      exec: 'wait',
      vus: WAITERS,
      duration: DURATION,
    },
  },
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:POST /queue/tokens}': [`p(99)<${QUEUE_P99_MS}`],
    'http_req_duration{name:GET /queue/status}': [`p(99)<${QUEUE_P99_MS}`],
    // The generator could not keep the join rate: the service is slower than the target.
    dropped_iterations: [`count<${Math.ceil(ISSUE_RATE * 0.01)}`],
  },
};

function roomSettings() {
  const settings = {};
  if (ROOM_MAX_ACTIVE > 0) settings.maxActiveUsers = ROOM_MAX_ACTIVE;
  if (ROOM_ADMIT_PER_SECOND > 0) settings.admitPerSecond = ROOM_ADMIT_PER_SECOND;
  if (ROOM_IDLE_SECONDS > 0) settings.waitingIdleSeconds = ROOM_IDLE_SECONDS;
  if (ROOM_START_IN_SECONDS > 0) {
    settings.order = 'RANDOM_AT_START';
    settings.admissionStartsAt = new Date(Date.now() + ROOM_START_IN_SECONDS * 1000).toISOString();
  }
  return settings;
}

export function setup() {
  const concert = api.createConcert(`k6 queue ${Date.now()}`);
  const users = api.createUsers(USERS + WAITERS, 0, newRunId(), 'k6 queue user');
  // Last, so that a start ROOM_START_IN_SECONDS away is counted from the end of setup().
  const settings = roomSettings();
  if (Object.keys(settings).length > 0) {
    const room = api.configureWaitingRoom(concert.id, settings);
    console.log(`waiting room: ${JSON.stringify(room)}`);
  }
  // Two separate populations: the joiners never re-join a waiter's token behind its back.
  return { concertId: concert.id, joiners: users.slice(0, USERS), waiters: users.slice(USERS) };
}

/** A fan (re-)joining: 201 the first time, 200 with the same token after. */
export function join({ concertId, joiners }) {
  const user = joiners[exec.scenario.iterationInTest % joiners.length];
  const response = api.issueToken(accessTokenOf(user), concertId);
  check(response, {
    'join: 201 or 200': (r) => r.status === 201 || r.status === 200,
    'join: status answer (pollAfterSeconds = Retry-After, position may be null)': (r) =>
      api.isValidStatusAnswer(r, concertId),
  });
}

// This VU's fan (each VU is its own JS runtime): their token, joined again if it dies.
let token;

/**
 * One request of a waiting fan (a join, or a status poll), then a sleep of the answer's
 * `pollAfterSeconds`, cut short only by the end of the scenario (so no poll is sent after it).
 */
export function wait({ concertId, waiters }) {
  let response;
  if (token === undefined) {
    const user = waiters[(exec.vu.idInTest - 1) % waiters.length];
    response = api.issueToken(accessTokenOf(user), concertId);
    check(response, {
      'wait: join 201 or 200': (r) => r.status === 201 || r.status === 200,
      'wait: join status answer': (r) => api.isValidStatusAnswer(r, concertId),
    });
    const entry = api.json(response);
    if (entry && typeof entry.token === 'string') token = entry.token;
  } else {
    response = api.queueStatus(token);
    if (response.status === 401) {
      // Dropped (it could not poll in time) or an ACTIVE token past its TTL: join again.
      api.checkProblem(response, 401, 'QUEUE_TOKEN_INVALID', 'poll: dead token');
      token = undefined;
      return;
    }
    check(response, {
      'poll: 200': (r) => r.status === 200,
      'poll: status answer (pollAfterSeconds = Retry-After, position may be null)': (r) =>
        api.isValidStatusAnswer(r, concertId),
    });
  }
  // The hint of a status answer, or the Retry-After of a 429/503: the client never picks its own.
  const hint = api.pollAfterSeconds(response);
  if (response.status === 200 || response.status === 201) pollHints.add(hint);
  const left = (exec.scenario.startTime + DURATION_MS - Date.now()) / 1000;
  if (left > 0) sleep(Math.min(hint, left));
}
