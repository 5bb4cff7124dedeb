import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster, ClusterOptions } from 'ioredis';
import { redisConfig, RedisConfig } from '../config/configuration';
import type { RedisClient } from './redis-client';
import { boundByDeadline } from './redis-deadline';

/** Longest wait for one command; within a request, never past its deadline (ADR 0013). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

export type { RedisClient } from './redis-client';

const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * One ioredis client per process, injected by the `Redis` class as token. It fails fast while
 * Redis is down (no offline queue, one retry, command timeout) so callers answer 503 instead of
 * hanging, and it reconnects on its own when Redis is back. The Cluster client gets the same
 * bounds per node, and keeps the few cluster-level retries (a failover, a moved slot) short.
 */
export async function createRedisClient(config: RedisConfig): Promise<RedisClient> {
  const client =
    config.clusterNodes.length > 0
      ? new Cluster(config.clusterNodes, clusterOptions(config))
      : new Redis(config.url, {
          keyPrefix: config.keyPrefix || undefined,
          lazyConnect: true,
          // Batches commands issued in the same event-loop turn into one write: under on-sale
          // load this cuts socket writes (a measured ~11% of CPU on the status poll).
          enableAutoPipelining: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2000,
          commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
          retryStrategy: reconnectDelay,
        });
  boundByDeadline(client, REDIS_COMMAND_TIMEOUT_MS);
  const logger = new Logger('Redis');
  let lastError = '';
  const report = (error: Error) => {
    // ioredis emits one error per reconnect attempt; log each distinct cause once.
    if (error.message !== lastError) logger.warn(`Redis error: ${error.message}`);
    lastError = error.message;
  };
  client.on('error', report);
  // A Cluster reports a lost node here, and on 'error' only once the whole cluster is lost.
  client.on('node error', report);
  client.on('ready', () => {
    if (lastError) logger.log('Redis connection restored');
    lastError = '';
  });
  await client.connect();
  return client;
}

function clusterOptions(config: RedisConfig): ClusterOptions {
  // REDIS_URL lends the nodes its credentials and TLS; its host and database are not used (a
  // cluster has database 0 only).
  const url = new URL(config.url);
  return {
    keyPrefix: config.keyPrefix || undefined,
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    // Replicas may lag: every read of the queue and the limits must see the last write.
    scaleReads: 'master',
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // A command redirected or retried during a failover answers (or fails) within about a second.
    maxRedirections: 4,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    redisOptions: {
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    },
  };
}

@Global()
@Module({
  providers: [
    {
      provide: Redis,
      inject: [redisConfig.KEY],
      useFactory: (config: RedisConfig) => createRedisClient(config),
    },
  ],
  exports: [Redis],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'end') return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
