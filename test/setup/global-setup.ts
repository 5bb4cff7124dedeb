import { randomBytes } from 'node:crypto';
import { dockerEngineReachable } from './docker-engine';

interface Stoppable {
  stop(): Promise<unknown>;
}

declare global {
  var __TEST_CONTAINERS__: Stoppable[] | undefined;
}

/**
 * Chooses the MySQL and Redis the tests talk to: containers when a Docker engine is reachable
 * (and TESTCONTAINERS is not "off"), else the servers named by DB_* / REDIS_URL, defaulting to
 * the local ones. Workers inherit the resulting environment.
 */
export default async function globalSetup(): Promise<void> {
  process.env.TEST_RUN_ID ??= randomBytes(4).toString('hex');

  if (process.env.TESTCONTAINERS !== 'off' && (await dockerEngineReachable())) {
    // Loaded lazily: only machines with an engine need the container libraries.
    const { MySqlContainer } = await import('@testcontainers/mysql');
    const { RedisContainer } = await import('@testcontainers/redis');
    const [mysql, redis] = await Promise.all([
      new MySqlContainer('mysql:8.4').withRootPassword('test').start(),
      new RedisContainer('redis:7-alpine').start(),
    ]);
    globalThis.__TEST_CONTAINERS__ = [mysql, redis];
    process.env.DB_HOST = mysql.getHost();
    process.env.DB_PORT = String(mysql.getPort());
    process.env.DB_USER = 'root';
    process.env.DB_PASSWORD = 'test';
    process.env.REDIS_URL = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}/0`;
    console.log(`\n[tests] MySQL and Redis in Testcontainers (run ${process.env.TEST_RUN_ID})`);
    return;
  }
  process.env.DB_HOST ??= '127.0.0.1';
  process.env.DB_PORT ??= '3306';
  process.env.DB_USER ??= 'root';
  process.env.DB_PASSWORD ??= '';
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379/0';
  console.log(
    `\n[tests] no Docker engine: MySQL ${process.env.DB_HOST}:${process.env.DB_PORT}, Redis ${process.env.REDIS_URL} (run ${process.env.TEST_RUN_ID})`,
  );
}
