// Waiting-room load: token issue and status polling at target arrival rates (open model: the
// rate is held whatever the latency, as on an on-sale morning), for one concert's waiting room.
// setup() signs up USERS users (the stack must allow it: AUTH_SIGNUPS_PER_HOUR=0 or ≥ USERS);
// pass -e AUTH_JWT_SECRET=... to sign their access tokens here instead of logging each one in.
// Token issue is a write counted by RATE_LIMIT_USER_WRITES_PER_MINUTE: keep ISSUE_RATE × 60 / USERS
// below it. Sizes and rates from __ENV:
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... \
//          -e USERS=2000 -e ISSUE_RATE=500 -e POLL_RATE=2000 -e DURATION=60s k6/queue.js
//
// Targets (docs/benchmarks.md): status poll p99 ≤ 30 ms, no 5xx. Raise QUEUE_P99_MS when the
// generator is far from the service.
import { check } from 'k6';
import exec from 'k6/execution';
import * as api from './lib/api.js';
import { accessTokenOf, newRunId } from './lib/auth.js';
import { intEnv } from './lib/config.js';

const USERS = intEnv('USERS', 2000);
const ISSUE_RATE = intEnv('ISSUE_RATE', 500);
const POLL_RATE = intEnv('POLL_RATE', 2000);
const DURATION = __ENV.DURATION || '60s';
const QUEUE_P99_MS = intEnv('QUEUE_P99_MS', 30);

export const options = {
  setupTimeout: '5m',
  scenarios: {
    issue: {
      executor: 'constant-arrival-rate',
      exec: 'issue',
      rate: ISSUE_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(ISSUE_RATE / 20)),
      maxVUs: Math.max(50, ISSUE_RATE),
    },
    poll: {
      executor: 'constant-arrival-rate',
      exec: 'poll',
      rate: POLL_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(POLL_RATE / 20)),
      maxVUs: Math.max(50, POLL_RATE),
    },
  },
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:POST /queue/tokens}': [`p(99)<${QUEUE_P99_MS}`],
    'http_req_duration{name:GET /queue/status}': [`p(99)<${QUEUE_P99_MS}`],
    // The generator could not keep the rate: the service is slower than the target.
    dropped_iterations: [`count<${Math.ceil((ISSUE_RATE + POLL_RATE) * 0.01)}`],
  },
};

export function setup() {
  const concert = api.createConcert(`k6 queue ${Date.now()}`);
  return { concertId: concert.id, users: api.createUsers(USERS, 0, newRunId(), 'k6 queue user') };
}

function validEntry(entry) {
  return (
    entry !== undefined &&
    typeof entry.token === 'string' &&
    (entry.status === 'WAITING' || entry.status === 'ACTIVE') &&
    Number.isInteger(entry.position) &&
    (entry.status === 'ACTIVE' ? entry.position === 0 : entry.position >= 1)
  );
}

/** A client (re-)issuing its token: 201 the first time, 200 with the same token after. */
export function issue({ concertId, users }) {
  const user = users[exec.scenario.iterationInTest % users.length];
  const response = api.issueToken(accessTokenOf(user), concertId);
  check(response, {
    'issue: 201 or 200': (r) => r.status === 201 || r.status === 200,
    'issue: entry shape': (r) => validEntry(api.json(r)),
  });
}

// One token per VU (each VU is its own JS runtime), re-issued if it expires or is dropped.
let token;

export function poll({ concertId, users }) {
  if (token === undefined) {
    const user = users[(exec.vu.idInTest - 1) % users.length];
    const issued = api.json(api.issueToken(accessTokenOf(user), concertId));
    if (!issued || !issued.token) return;
    token = issued.token;
  }
  const response = api.queueStatus(token);
  if (response.status === 401) {
    api.checkProblem(response, 401, 'QUEUE_TOKEN_INVALID', 'poll: expired token');
    token = undefined;
    return;
  }
  check(response, {
    'poll: 200': (r) => r.status === 200,
    'poll: entry shape': (r) => validEntry(api.json(r)),
  });
}
