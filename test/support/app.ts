import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';

/**
 * Boots the real application (same factory as main.ts) with extra environment for this instance
 * only. Several may run at once in one test process against the same MySQL and Redis.
 */
export async function startApp(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    const app = await createApp();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

export function http(app: NestFastifyApplication) {
  return app.getHttpServer();
}

/** Raw SQL for arranging and asserting state; never used by the code under test. */
export function sql<T = Record<string, unknown>[]>(
  app: NestFastifyApplication,
  query: string,
  params: unknown[] = [],
): Promise<T> {
  return app.get(DataSource).query<T>(query, params);
}

export const ADMIN_KEY = 'test-admin-key-at-least-32-characters';
