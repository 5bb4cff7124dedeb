import { Cluster } from 'ioredis';
import { isDependencyUnavailable } from '../../src/common/errors/dependency-errors';
import { createRedisClient, REDIS_COMMAND_TIMEOUT_MS } from '../../src/common/redis/redis.module';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { RedisClusterHandle, startRedisCluster } from '../setup/redis-cluster';
import { eventually } from '../support/eventually';

interface Outcome {
  ms: number;
  /** 'ok', 'unavailable' (what the app answers 503 to), or the unexpected error. */
  result: string;
}

/**
 * A master of a private 3-master cluster (no replicas) crashes and comes back: the Cluster client
 * answers every command within its bound while the master is gone, with an error the app turns
 * into 503, and serves the master's slots again on its own once it is back.
 */
describe('Redis Cluster outage (integration)', () => {
  let cluster: RedisClusterHandle;
  let redis: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const client = await createRedisClient({
      url: 'redis://127.0.0.1:6379/0',
      keyPrefix: process.env.REDIS_KEY_PREFIX ?? '',
      clusterNodes: cluster.nodes.map((node) => {
        const [host, port] = node.split(':');
        return { host, port: Number(port) };
      }),
    });
    if (!(client instanceof Cluster)) throw new Error('expected the Cluster client');
    redis = client;
  });

  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  const call = async (key: string): Promise<Outcome> => {
    const started = performance.now();
    try {
      await redis.get(key);
      return { ms: performance.now() - started, result: 'ok' };
    } catch (error) {
      const ms = performance.now() - started;
      return { ms, result: isDependencyUnavailable(error) ? 'unavailable' : String(error) };
    }
  };

  it('should fail fast as unavailable while a master is down, and recover on its own', async () => {
    // A room on the master that will crash, and one elsewhere.
    const prefix = redis.options.keyPrefix ?? '';
    const slotOf = (key: string) => redis.cluster('KEYSLOT', `${prefix}${key}`);
    const victim = cluster.nodes[0];
    const rooms: { onVictim?: string; elsewhere?: string } = {};
    for (let concertId = 1; !(rooms.onVictim && rooms.elsewhere); concertId++) {
      const key = roomKeys(concertId).waiting;
      const [host, port] = redis.slots[await slotOf(key)][0].split(':');
      const onVictim = `${host}:${port}` === victim;
      if (onVictim) rooms.onVictim ??= key;
      else rooms.elsewhere ??= key;
    }
    expect(await call(rooms.onVictim)).toMatchObject({ result: 'ok' });

    await cluster.killNode(0);
    const outcomes: Outcome[] = [];
    // Past the 2 s node timeout, so both phases are seen: the master unreachable while the
    // cluster still says ok, then the cluster marked failed (CLUSTERDOWN on every slot).
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      outcomes.push(...(await Promise.all([call(rooms.onVictim), call(rooms.elsewhere)])));
    }
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    const other = outcomes.filter((o) => o.result !== 'ok' && o.result !== 'unavailable');
    console.log(
      `cluster master down: ${outcomes.length} calls, ` +
        `${outcomes.filter((o) => o.result === 'unavailable').length} unavailable, slowest ${Math.round(slowest)} ms`,
    );
    expect(other).toEqual([]);
    expect(outcomes.filter((o) => o.result === 'unavailable').length).toBeGreaterThan(0);
    // One command timeout plus the few short cluster retries, never a hang.
    expect(slowest).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 1_500);

    await cluster.restartNode(0);
    await eventually(async () => {
      expect(await call(rooms.onVictim!)).toMatchObject({ result: 'ok' });
      expect(await call(rooms.elsewhere!)).toMatchObject({ result: 'ok' });
    }, 30_000);
  });
});
