import { randomBytes } from 'node:crypto';
import { ensureBuiltServer } from './built-server';
import { dockerEngineReachable } from './docker-engine';
import { ensureRabbitMq } from './rabbitmq';
import { RedisClusterHandle, startRedisCluster } from './redis-cluster';

const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

interface Stoppable {
  stop(): Promise<unknown>;
}

declare global {
  var __TEST_CONTAINERS__: Stoppable[] | undefined;
  var __TEST_REDIS_CLUSTER__: RedisClusterHandle | undefined;
}

/**
 * Chooses the MySQL and Redis the tests talk to: containers when a Docker engine is reachable
 * (and TESTCONTAINERS is not "off"), else the servers named by DB_* / REDIS_URL, defaulting to
 * the local ones. Workers inherit the resulting environment.
 */
export default async function globalSetup(): Promise<void> {
  ensureBuiltServer();
  process.env.TEST_RUN_ID ??= randomBytes(4).toString('hex');
  if (process.env.TEST_REDIS_TOPOLOGY === 'cluster') {
    // `npm run test:cluster`: every app (in process or child) then talks to a 3-master cluster.
    const cluster = await startRedisCluster(3);
    globalThis.__TEST_REDIS_CLUSTER__ = cluster;
    process.env.REDIS_CLUSTER_NODES = cluster.nodes.join(',');
    console.log(`\n[tests] Redis Cluster of 3 masters at ${cluster.nodes.join(', ')}`);
    try {
      await chooseServers();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return;
  }
  await chooseServers();
}

async function chooseServers(): Promise<void> {
  if (process.env.TESTCONTAINERS !== 'off' && (await dockerEngineReachable())) {
    // Loaded lazily: only machines with an engine need the container libraries.
    const { MySqlContainer } = await import('@testcontainers/mysql');
    const { RedisContainer } = await import('@testcontainers/redis');
    const { GenericContainer, Wait } = await import('testcontainers');
    const [mysql, redis, rabbitmq] = await Promise.all([
      new MySqlContainer('mysql:8.4').withRootPassword('test').start(),
      new RedisContainer('redis:7-alpine').start(),
      new GenericContainer('rabbitmq:4-alpine')
        .withExposedPorts(5672)
        .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
        .start(),
    ]);
    globalThis.__TEST_CONTAINERS__ = [mysql, redis, rabbitmq];
    process.env.DB_HOST = mysql.getHost();
    process.env.DB_PORT = String(mysql.getPort());
    process.env.DB_USER = 'root';
    process.env.DB_PASSWORD = 'test';
    process.env.REDIS_URL = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}/0`;
    process.env.TEST_AMQP_URL = `amqp://guest:guest@${rabbitmq.getHost()}:${rabbitmq.getMappedPort(5672)}`;
    console.log(
      `\n[tests] MySQL, Redis and RabbitMQ in Testcontainers (run ${process.env.TEST_RUN_ID})`,
    );
    return;
  }
  process.env.DB_HOST ??= '127.0.0.1';
  process.env.DB_PORT ??= '3306';
  process.env.DB_USER ??= 'root';
  process.env.DB_PASSWORD ??= '';
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379/0';
  // The event tests' broker (test/support/events.ts). Apps get it only when a test passes it on:
  // test-env.ts keeps EVENTS_AMQP_URL out of every other app's environment.
  process.env.TEST_AMQP_URL ??= process.env.EVENTS_AMQP_URL ?? DEFAULT_AMQP_URL;
  if (!(await ensureRabbitMq(process.env.TEST_AMQP_URL))) {
    console.warn(
      `\n[tests] RabbitMQ does not answer at ${new URL(process.env.TEST_AMQP_URL).host} and could ` +
        'not be started: the event tests will fail',
    );
  }
  console.log(
    `\n[tests] no Docker engine: MySQL ${process.env.DB_HOST}:${process.env.DB_PORT}, Redis ${process.env.REDIS_URL} (run ${process.env.TEST_RUN_ID})`,
  );
}
