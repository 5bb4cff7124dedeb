import { randomBytes } from 'node:crypto';

// Runs in each worker before each test file. A database per worker (created and migrated by the
// app on boot, dropped in global teardown) and a Redis key prefix per test file let files run
// in parallel without seeing each other's state.
const runId = process.env.TEST_RUN_ID ?? 'local';
const worker = process.env.JEST_WORKER_ID ?? '1';

process.env.NODE_ENV = 'test';
process.env.DB_NAME = `concert_test_${runId}_${worker}`;
process.env.REDIS_KEY_PREFIX = `test:${runId}:${worker}:${randomBytes(3).toString('hex')}:`;
process.env.ADMIN_API_KEY = 'test-admin-key';
process.env.LOG_LEVEL ??= 'silent';
// Background jobs are driven explicitly by the tests that need them.
process.env.JOBS_ENABLED = 'false';
// Several apps per test file share one MySQL; small pools keep the connection count sane.
process.env.DB_POOL_SIZE ??= '10';
