// The bare baseline for the status poll: Fastify + ioredis and nothing else — no Nest, no guards,
// no CLS, no validation, no logging, no metrics — running the very same queue code against Redis
// (the compiled QueueService and its Redis repository, so the same Lua script with the same keys).
// `bench/run.mjs` measures GET /queue/status here and on the real service in one run, and reports
// the ratio: a figure that stays comparable on a noisy machine, unlike raw req/s. The status poll
// takes only the Queue-Token (no bearer), so the baseline checks no access token either.
// BENCH_APP_ROOT picks the build whose compiled queue code it runs (default: this checkout).
//
//   PORT=3199 REDIS_URL=redis://127.0.0.1:6379/0 node bench/baseline-server.mjs
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist = join(
  resolve(process.env.BENCH_APP_ROOT ?? fileURLToPath(new URL('..', import.meta.url))),
  'dist/',
);

/** Loads the compiled queue code; undefined when the build has no queue module yet. */
export function loadQueueCode() {
  try {
    require('reflect-metadata');
    const { QueueService } = require(`${dist}modules/queue/domain/queue.service.js`);
    const { QueueRedisRepository } = require(
      `${dist}modules/queue/infrastructure/queue.redis-repository.js`,
    );
    // Since waiting rooms, the service reads each room's settings through WaitingRoomService;
    // the baseline has no MySQL, so every room runs with the environment defaults (as a room
    // never configured does in the service).
    let WaitingRoomService;
    try {
      ({ WaitingRoomService } = require(`${dist}modules/queue/domain/waiting-room.service.js`));
    } catch {
      WaitingRoomService = undefined;
    }
    return { QueueService, QueueRedisRepository, WaitingRoomService };
  } catch (error) {
    return { missing: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

function intFromEnv(name, fallback) {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export async function startBaseline(port) {
  const code = loadQueueCode();
  if (code.missing) throw new Error(`queue code not built: ${code.missing}`);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    keyPrefix: process.env.REDIS_KEY_PREFIX || undefined,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  await redis.connect();
  // The same settings the service reads from its environment (src/common/config).
  const config = {
    maxActiveUsers: intFromEnv('QUEUE_MAX_ACTIVE_USERS', 1000),
    admitPerSecond: intFromEnv('QUEUE_ADMIT_PER_SECOND', 100),
    activeTtlSeconds: intFromEnv('QUEUE_ACTIVE_TTL_SECONDS', 600),
    waitingIdleSeconds: intFromEnv('QUEUE_WAITING_IDLE_SECONDS', 120),
  };
  const store = new code.QueueRedisRepository(redis);
  const noStoredSettings = { findStored: async () => new Map(), save: async () => undefined };
  const queue = code.WaitingRoomService
    ? new code.QueueService(store, new code.WaitingRoomService(noStoredSettings, config))
    : new code.QueueService(store, config);

  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/queue/status', async (request, reply) => {
    try {
      return await queue.status(request.headers['queue-token']);
    } catch (error) {
      // Unknown or expired token: the service answers 401 problem+json; so does the baseline.
      const code = error && typeof error === 'object' && 'code' in error ? error.code : 'ERROR';
      return reply
        .status(code === 'QUEUE_TOKEN_INVALID' ? 401 : 500)
        .type('application/problem+json')
        .send({ status: 401, code });
    }
  });
  app.addHook('onClose', async () => {
    await redis.quit();
  });
  await app.listen({ port, host: '127.0.0.1' });
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startBaseline(intFromEnv('PORT', 3199));
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
