import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';

/**
 * Boots the real application (same factory as main.ts) with extra environment for this instance
 * only. Several may run at once in one test process against the same MySQL and Redis.
 */
export function startApp(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  return withEnv(env, async () => {
    const app = await createApp();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  });
}

/** Runs `boot` with `env` added to process.env, which Nest's config reads once at boot. */
export async function withEnv<T>(env: Record<string, string>, boot: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await boot();
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
  app: INestApplicationContext,
  query: string,
  params: unknown[] = [],
): Promise<T> {
  return app.get(DataSource).query<T>(query, params);
}

export const ADMIN_KEY = 'test-admin-key-at-least-32-characters';
