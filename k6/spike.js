// A sudden on-sale burst: arrivals jump from a trickle to SPIKE_RATE tokens a second within
// seconds. Each arrival takes a token and polls once. The service must stay responsive: every
// answer is a contract success, or 429 RATE_LIMITED / 503 SERVICE_UNAVAILABLE with Retry-After
// (load shedding), and none takes long (no hangs).
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

function judge(response, okStatuses, label) {
  if (okStatuses.includes(response.status)) {
    unexpected.add(false);
    return true;
  }
  if (api.isValidShed(response)) {
    shed.add(1, { status: String(response.status) });
    unexpected.add(false);
    return false;
  }
  unexpected.add(true);
  check(response, { [`${label}: contract answer`]: () => false });
  return false;
}

export default function arrival({ concertId, users }) {
  const user = users[exec.scenario.iterationInTest % users.length];
  const issued = api.issueToken(accessTokenOf(user), concertId);
  if (!judge(issued, [200, 201], 'issue')) return;
  const entry = api.json(issued);
  check(entry, { 'issue: has a token': (e) => e !== undefined && typeof e.token === 'string' });
  const polled = api.queueStatus(entry.token);
  judge(polled, [200], 'poll');
}
