import Redis, { Cluster } from 'ioredis';
import type { RedisClient } from '../../src/common/redis/redis-client';

/**
 * `npm run test:cluster` sets TEST_REDIS_TOPOLOGY=cluster: global setup then starts a 3-master
 * Redis Cluster (test/setup/redis-cluster.ts) and every app gets REDIS_CLUSTER_NODES.
 */
export const onRedisCluster = (): boolean => process.env.TEST_REDIS_TOPOLOGY === 'cluster';

/** The masters of a cluster (SCAN, FLUSH and INFO are per node), or the one Redis. */
export function mastersOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * Every key matching `pattern` (the full, prefixed name, as SCAN sees it) on every master,
 * returned without `prefix` so the prefixing client can be handed them back.
 */
export async function scanKeys(
  redis: RedisClient,
  pattern: string,
  prefix = '',
): Promise<string[]> {
  const keys: string[] = [];
  for (const node of mastersOf(redis)) {
    for await (const batch of node.scanStream({ match: pattern, count: 1000 })) {
      keys.push(...(batch as string[]).map((key) => key.slice(prefix.length)));
    }
  }
  return keys;
}

/** Deletes keys one by one: a multi-key DEL over several slots fails with CROSSSLOT. */
export async function deleteKeys(redis: RedisClient, keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => redis.unlink(key)));
}
