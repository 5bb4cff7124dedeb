import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { QueueFacade } from '../../src/modules/queue/application/queue.facade';
import { AdmissionRun } from '../../src/modules/queue/domain/queue-entry';
import { ROOM_REGISTRY_KEY } from '../../src/modules/queue/queue.constants';
import { http, sql } from './app';
import { authHeader } from './auth';

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
  const redis = app.get(Redis);
  const prefix = redis.options.keyPrefix ?? '';
  // SCAN patterns are not prefixed by ioredis, but the keys it returns must be given back bare.
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}{room:*`, count: 1000 })) {
    keys.push(...(batch as string[]).map((key) => key.slice(prefix.length)));
  }
  if (keys.length > 0) await redis.del(...keys);
  await redis.del(ROOM_REGISTRY_KEY);
}

/** Users straight into MySQL (arranging only): many at once without 5,000 HTTP calls. */
export async function insertUsers(app: NestFastifyApplication, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let start = 0; start < ids.length; start += 1000) {
    const rows = ids.slice(start, start + 1000).map((id, i) => [id, `Fan ${start + i + 1}`]);
    await sql(app, 'INSERT INTO users (id, name, created_at) VALUES ?', [
      rows.map(([id, name]) => [id, name, new Date()]),
    ]);
  }
  return ids;
}
