import { randomBytes } from 'node:crypto';

// Runs in each worker before each test file. Every test file gets its own database (created and
// migrated by the app on boot, dropped in global teardown) and its own Redis key prefix, so files
// run in parallel and the whole-database invariant checks see only their own file's data.
const runId = process.env.TEST_RUN_ID ?? 'local';
const worker = process.env.JEST_WORKER_ID ?? '1';
const file = randomBytes(3).toString('hex');

process.env.NODE_ENV = 'test';
process.env.DB_NAME = `concert_test_${runId}_${worker}_${file}`;
process.env.REDIS_KEY_PREFIX = `test:${runId}:${worker}:${file}:`;
process.env.ADMIN_API_KEY = 'test-admin-key-at-least-32-characters';
// Tests mint their own access tokens with this secret (test/support/auth.ts), as any holder may.
process.env.AUTH_JWT_SECRET = 'test-jwt-secret-at-least-32-characters-long';
// Every test request comes from 127.0.0.1 and many from one user: the abuse limits would turn
// ordinary arrangements into 429s. The tests of those limits switch them on for their own app.
process.env.AUTH_SIGNUPS_PER_HOUR ??= '0';
process.env.RATE_LIMIT_USER_WRITES_PER_MINUTE ??= '0';
process.env.LOG_LEVEL ??= 'silent';
// Each file publishes its events to an exchange of its own, so files running in parallel never
// see each other's events; and no app relays at all unless its test passes EVENTS_AMQP_URL
// (test/support/events.ts), so only the event tests need the broker.
process.env.EVENTS_EXCHANGE = `concert-booking.events.test.${runId}.${worker}.${file}`;
delete process.env.EVENTS_AMQP_URL;
// Background jobs are driven explicitly by the tests that need them.
process.env.JOBS_ENABLED = 'false';
// Several apps per test file share one MySQL; small pools keep the connection count sane.
process.env.DB_POOL_SIZE ??= '10';
// Tests fire bursts of parallel requests at one app on purpose; load shedding would turn those
// into 503s. The overload e2e test sets its own limits.
process.env.OVERLOAD_MAX_IN_FLIGHT ??= '0';
process.env.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS ??= '0';
// Servers, several app instances and 5,000-request bursts on a shared 2-core box: minutes, not the
// unit tier's 5 s default (jest.config.js cannot set it per project).
jest.setTimeout(120_000);
