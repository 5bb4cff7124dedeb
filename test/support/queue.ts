import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { QueueFacade } from '../../src/modules/queue/application/queue.facade';
import { AdmissionRun } from '../../src/modules/queue/domain/queue-entry';
import type { RedisClient } from '../../src/common/redis/redis-client';
import { ROOM_REGISTRY_KEY, roomKeys } from '../../src/modules/queue/queue.constants';
import { http } from './app';
import { authHeader } from './auth';
import { deleteKeys, scanKeys } from './redis-topology';

/** A queue ticket as POST /queue/tokens and GET /queue/status answer it. */
export interface Ticket {
  token: string;
  userId: string;
  concertId: number;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  estimatedWaitSeconds: number;
  activeUntil: string | null;
  pollAfterSeconds: number;
}

/** One admission run, exactly as the scheduler does it (tests run with JOBS_ENABLED=false). */
export function runAdmission(app: NestFastifyApplication): Promise<AdmissionRun> {
  return app.get(QueueFacade).runAdmission();
}

/**
 * Issues a token for the user (with their bearer token) for `concertId` through
 * `POST /queue/tokens` and runs admission until it is ACTIVE (FIFO and the per-second cap may make
 * it wait for a later second). Returns the token.
 */
export async function activeTokenFor(
  app: NestFastifyApplication,
  userId: string,
  concertId: number,
  timeoutMs = 10_000,
): Promise<string> {
  const issued = await request(http(app))
    .post('/queue/tokens')
    .set(await authHeader(userId))
    .send({ concertId });
  if (issued.status !== 201 && issued.status !== 200) {
    throw new Error(`POST /queue/tokens answered ${issued.status}: ${JSON.stringify(issued.body)}`);
  }
  const token = (issued.body as { token: string }).token;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await runAdmission(app);
    const status = await request(http(app)).get('/queue/status').set('Queue-Token', token);
    if (status.status !== 200) {
      throw new Error(
        `GET /queue/status answered ${status.status}: ${JSON.stringify(status.body)}`,
      );
    }
    if ((status.body as { status: string }).status === 'ACTIVE') return token;
    if (Date.now() > deadline) throw new Error(`token of ${userId} was not admitted in time`);
    await sleep(100);
  }
}

/** Empties this test file's waiting rooms (keys are under the file's own Redis prefix). */
export async function resetQueue(app: NestFastifyApplication): Promise<void> {
  const redis: RedisClient = app.get(Redis);
  const prefix = redis.options.keyPrefix ?? '';
  // SCAN patterns are not prefixed by ioredis, but the keys it returns must be given back bare.
  await deleteKeys(redis, await scanKeys(redis, `${prefix}{room:*`, prefix));
  await redis.del(ROOM_REGISTRY_KEY);
}

/**
 * Moves a room's clock for `tokens` instead of waiting for it: their last poll (`seen`) or their
 * ACTIVE expiry (`active`) goes `ms` into the past, as if that much Redis time had passed for
 * them alone. XX leaves tokens that are not in the set out of it.
 */
export async function rewindQueueEntries(
  app: NestFastifyApplication,
  concertId: number,
  scores: 'seen' | 'active',
  tokens: string[],
  ms: number,
): Promise<void> {
  const redis: RedisClient = app.get(Redis);
  const key = roomKeys(concertId)[scores];
  for (const token of tokens) await redis.zadd(key, 'XX', 'INCR', -ms, token);
}
