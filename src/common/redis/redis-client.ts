import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';

/**
 * What the `Redis` injection token holds: one Redis, or a Redis Cluster when REDIS_CLUSTER_NODES
 * is set. Both share ioredis's command API; code that needs more than commands (a subscriber's
 * duplicate) checks which one it has.
 */
export type RedisClient = Redis | Cluster;
