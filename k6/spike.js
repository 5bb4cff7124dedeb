// A sudden on-sale burst: arrivals jump from a trickle to SPIKE_RATE tokens a second within
// seconds. Each arrival is a fan (re-)joining the room (POST /queue/tokens, round robin over USERS
// accounts); the fan then polls GET /queue/status once, when the answer's `pollAfterSeconds` have
// passed, as a well-behaved client does — unless they joined again before that (a re-join is a
// poll too, with a fresh hint), so the polls never outrun what USERS fans following the hints send.
// The service must stay responsive: every answer is a contract success, or 429 RATE_LIMITED /
// 503 SERVICE_UNAVAILABLE with Retry-After (load shedding), and none takes long (no hangs).
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... -e AUTH_JWT_SECRET=... \
//          -e USERS=5000 -e SPIKE_RATE=3000 k6/spike.js
//
// setup() signs up USERS users (AUTH_SIGNUPS_PER_HOUR=0 or ≥ USERS on the stack); with
// AUTH_JWT_SECRET their tokens are signed here, without it each logs in once during setup().
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import exec from 'k6/execution';
import * as api from './lib/api.js';
import { accessTokenOf, newRunId } from './lib/auth.js';
import { intEnv } from './lib/config.js';

const USERS = intEnv('USERS', 5000);
const BASE_RATE = intEnv('BASE_RATE', 50);
const SPIKE_RATE = intEnv('SPIKE_RATE', 3000);
const MAX_LATENCY_MS = intEnv('MAX_LATENCY_MS', 2000);

// Anything outside the contract: a 5xx other than a proper shed, a timeout, a malformed answer.
const unexpected = new Rate('unexpected_responses');
const shed = new Counter('shed_responses');

export const options = {
  setupTimeout: '10m',
  scenarios: {
    onsale: {
      executor: 'ramping-arrival-rate',
      startRate: BASE_RATE,
      timeUnit: '1s',
      preAllocatedVUs: 200,
      maxVUs: Math.max(500, SPIKE_RATE),
      stages: [
        { duration: '20s', target: BASE_RATE },
        { duration: '5s', target: SPIKE_RATE },
        { duration: __ENV.SPIKE_HOLD || '60s', target: SPIKE_RATE },
        { duration: '10s', target: BASE_RATE },
        { duration: '20s', target: BASE_RATE },
      ],
    },
  },
  thresholds: {
    unexpected_responses: ['rate==0'],
    // Shedding is fine; hanging is not.
    http_req_duration: [`max<${MAX_LATENCY_MS}`],
    checks: ['rate>0.99'],
  },
};

export function setup() {
  const concert = api.createConcert(`k6 spike ${Date.now()}`);
  return { concertId: concert.id, users: api.createUsers(USERS, 0, newRunId(), 'k6 spike user') };
}

/**
 * `okStatuses` are the successes; `problems` maps further statuses to the one contract code they
 * may carry (e.g. 401 QUEUE_TOKEN_INVALID for a token dropped as idle).
 */
function judge(response, okStatuses, label, problems = {}) {
  if (okStatuses.includes(response.status)) {
    unexpected.add(false);
    return true;
  }
  if (api.isValidShed(response)) {
    shed.add(1, { status: String(response.status) });
    unexpected.add(false);
    return false;
  }
  if (
    problems[response.status] !== undefined &&
    api.codeOf(response) === problems[response.status]
  ) {
    unexpected.add(false);
    return false;
  }
  unexpected.add(true);
  check(response, { [`${label}: contract answer`]: () => false });
  return false;
}

// Polls this VU still owes (each VU is its own JS runtime): { token, dueAt, arrival }.
const pending = [];
const MAX_PENDING = 1000;
// A burst of due polls is spread over the next arrivals (late is allowed; early never).
const MAX_POLLS_PER_ARRIVAL = 4;

/** Sends the polls that are due, drops those whose fan has joined again since. */
function pollDue(arrival, usersCount) {
  const now = Date.now();
  let polled = 0;
  for (let i = 0; i < pending.length;) {
    const owed = pending[i];
    // The same account arrives every `usersCount` arrivals: that re-join was this fan's poll.
    if (arrival - owed.arrival >= usersCount) {
      pending.splice(i, 1);
    } else if (owed.dueAt <= now && polled < MAX_POLLS_PER_ARRIVAL) {
      pending.splice(i, 1);
      polled++;
      // 401: the entry was dropped as idle (it may have waited on this VU past the idle limit).
      judge(api.queueStatus(owed.token), [200], 'poll', { 401: 'QUEUE_TOKEN_INVALID' });
    } else {
      i++;
    }
  }
}

export default function arrival({ concertId, users }) {
  const index = exec.scenario.iterationInTest;
  pollDue(index, users.length);
  const user = users[index % users.length];
  const issued = api.issueToken(accessTokenOf(user), concertId);
  if (!judge(issued, [200, 201], 'issue')) return;
  const entry = api.json(issued);
  check(entry, { 'issue: has a token': (e) => e !== undefined && typeof e.token === 'string' });
  check(issued, {
    'issue: pollAfterSeconds 1..60 = Retry-After (position may be null)': (r) =>
      api.isValidStatusAnswer(r, concertId),
  });
  if (entry === undefined || typeof entry.token !== 'string' || pending.length >= MAX_PENDING) {
    return;
  }
  pending.push({
    token: entry.token,
    dueAt: Date.now() + api.pollAfterSeconds(issued) * 1000,
    arrival: index,
  });
}
