import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { idempotencyMarkerKey } from '../../src/common/idempotency/idempotency.constants';
import { IdempotencyMarker } from '../../src/common/idempotency/idempotency.marker';
import { LockBusyError } from '../../src/common/lock/distributed-lock';
import { RedisDistributedLock } from '../../src/common/lock/redis-distributed-lock';
import { RateLimiter } from '../../src/common/rate-limit/rate-limiter';
import { createRedisClient } from '../../src/common/redis/redis.module';
import { AUDIT_KEYS } from '../../src/modules/audit/audit.constants';
import { AuditReport } from '../../src/modules/audit/domain/audit-report';
import { AuditResultRedisStore } from '../../src/modules/audit/infrastructure/audit-result.redis-store';
import { RoomSettings } from '../../src/modules/queue/domain/waiting-room';
import { RedisRoomSignals } from '../../src/modules/queue/infrastructure/room-signals.redis';
import { QueueRedisRepository } from '../../src/modules/queue/infrastructure/queue.redis-repository';
import { ROOM_KEY_ORDER } from '../../src/modules/queue/infrastructure/queue.scripts';
import { ROOM_REGISTRY_KEY, roomKeys } from '../../src/modules/queue/queue.constants';
import { RedisClusterHandle, startRedisCluster } from '../setup/redis-cluster';
import { eventually } from '../support/eventually';
import { deleteKeys, scanKeys } from '../support/redis-topology';

const room = (concertId: number): RoomSettings => ({
  concertId,
  maxActiveUsers: 1,
  admitPerSecond: 10,
  activeTtlSeconds: 60,
  waitingIdleSeconds: 60,
  opensAt: null,
  admissionStartsAt: null,
  order: 'FIFO',
});

/**
 * Every Redis script and multi-key command of the service against a real 3-master Redis Cluster
 * (the suite's own under `npm run test:cluster`, else one started here): none fails with
 * CROSSSLOT, one room's keys share a slot, and different rooms spread over the masters.
 */
describe('Redis Cluster (integration)', () => {
  let own: RedisClusterHandle | undefined;
  let redis: Cluster;
  const prefix = process.env.REDIS_KEY_PREFIX ?? '';

  beforeAll(async () => {
    let nodes = process.env.REDIS_CLUSTER_NODES ?? '';
    if (!nodes) {
      own = await startRedisCluster(3);
      nodes = own.nodes.join(',');
    }
    const client = await createRedisClient({
      url: 'redis://127.0.0.1:6379/0',
      keyPrefix: prefix,
      clusterNodes: nodes.split(',').map((node) => {
        const [host, port] = node.split(':');
        return { host, port: Number(port) };
      }),
    });
    if (!(client instanceof Cluster)) throw new Error('expected the Cluster client');
    redis = client;
  });

  afterAll(async () => {
    if (redis) {
      await deleteKeys(redis, await scanKeys(redis, `${prefix}*`, prefix));
      await redis.quit();
    }
    await own?.stop();
  });

  const slotOf = async (key: string) => Number(await redis.cluster('KEYSLOT', `${prefix}${key}`));
  /** The master serving a slot, as the client routes it. */
  const masterOf = (slot: number) => redis.slots[slot][0];

  it('should refuse an untagged two-key script, so the checks below can fail', async () => {
    // Two keys known to hash to different slots (checked first, so the control cannot pass idly).
    const [a, b] = ['control:a', 'control:b'];
    expect(await slotOf(a)).not.toBe(await slotOf(b));
    const script = "return redis.call('GET', KEYS[2])";
    // ioredis refuses it before sending (auto-pipelining groups by slot); a node refuses it too.
    await expect(redis.eval(script, 2, a, b)).rejects.toThrow(/same slot/);
    await expect(redis.nodes('master')[0].eval(script, 2, a, b)).rejects.toThrow(/CROSSSLOT/);
  });

  it('should keep every key of one room in one slot, and spread rooms over the masters', async () => {
    const slots = await Promise.all(ROOM_KEY_ORDER.map((name) => slotOf(roomKeys(7)[name])));
    slots.push(await slotOf(roomKeys(7).retired('some-token')));
    expect(new Set(slots).size).toBe(1);

    // Rooms 1..30 land on every master (16384 slots split in three): two on different ones.
    const masters = new Map<string, number>();
    for (let concertId = 1; concertId <= 30; concertId++) {
      masters.set(masterOf(await slotOf(roomKeys(concertId).waiting)), concertId);
    }
    expect(masters.size).toBe(3);
    const [roomA, roomB] = [...masters.values()];
    const queue = new QueueRedisRepository(redis);
    await queue.join('user-a', 'token-a', 0, room(roomA));
    await queue.join('user-b', 'token-b', 0, room(roomB));
    // Each room's line is on its own master, and only there.
    const holders = async (key: string) => {
      const found: string[] = [];
      for (const node of redis.nodes('master')) {
        // A node that does not serve the key's slot answers MOVED.
        const held = await node.exists(`${prefix}${key}`).catch(() => 0);
        if (held === 1) found.push(`${node.options.host}:${node.options.port}`);
      }
      return found;
    };
    const [onA, onB] = [
      await holders(roomKeys(roomA).waiting),
      await holders(roomKeys(roomB).waiting),
    ];
    expect(onA).toHaveLength(1);
    expect(onB).toHaveLength(1);
    expect(onA[0]).not.toBe(onB[0]);
  });

  it('should run every queue script of a room on the cluster', async () => {
    const queue = new QueueRedisRepository(redis);
    const settings = room(40);
    await queue.registerRoom(40);
    expect(await queue.listRooms()).toContain(40);

    const first = await queue.join('user-1', 'token-1', 0, settings);
    const second = await queue.join('user-2', 'token-2', 0, settings);
    expect(first).toMatchObject({ created: true, entry: { status: 'WAITING', position: 1 } });
    expect(second).toMatchObject({ created: true, entry: { status: 'WAITING', position: 2 } });
    expect(await queue.findLiveEntryOfUser('user-1', settings)).toMatchObject({ token: 'token-1' });

    const tick = await queue.tick(settings, 100);
    expect(tick).toMatchObject({ admitted: 1, waiting: 1, active: 1 });
    expect(await queue.poll('token-1', settings)).toMatchObject({ status: 'ACTIVE' });
    expect(await queue.pollMany(['token-1', 'token-2'], settings)).toMatchObject([
      { status: 'ACTIVE' },
      { status: 'WAITING', position: 1 },
    ]);
    expect(await queue.inspect('token-1', settings)).toEqual({
      userId: 'user-1',
      status: 'ACTIVE',
    });
    expect(await queue.stats(40)).toEqual({ waiting: 1, active: 1, admittedLastMinute: 1 });

    expect(await queue.retire('token-1', 40, null, 60)).toBe(true);
    expect(await queue.findRetiredOwner('token-1', 40)).toBe('user-1');
    // Registered just now, so not yet idle long enough to leave the registry.
    await queue.unregisterRoom(40, Date.now() - 60_000);
    expect(await queue.listRooms()).toContain(40);
    await queue.unregisterRoom(40, Date.now() + 60_000);
    expect(await queue.listRooms()).not.toContain(40);
    await redis.del(ROOM_REGISTRY_KEY);
  });

  it('should run the rate limiter, the idempotency marker and the seat lock on the cluster', async () => {
    const limiter = new RateLimiter(redis);
    const window = { name: 'cluster-test', limit: 2, windowSeconds: 60 };
    await limiter.consume(window, 'fan@example.com');
    await limiter.record(window, 'fan@example.com');
    await expect(limiter.assertNotExhausted(window, 'fan@example.com')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    await expect(limiter.consume(window, 'fan@example.com')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    await limiter.reset(window, 'fan@example.com');
    await expect(limiter.assertNotExhausted(window, 'fan@example.com')).resolves.toBeUndefined();

    const marker = new IdempotencyMarker(redis);
    const key = idempotencyMarkerKey(randomUUID(), 'payment', 'key-{with}-braces');
    const claim = await marker.acquire(key);
    expect(claim.state).toBe('acquired');
    expect(await marker.acquire(key)).toEqual({ state: 'taken' });
    await marker.release(key, claim);
    expect((await marker.acquire(key)).state).toBe('acquired');

    // redis-semaphore's client type is the single Redis's; the commands it uses are the same.
    const lock = new RedisDistributedLock(redis as never);
    let release!: () => void;
    const held = lock.withLock(
      'cluster:seat:1',
      5_000,
      () => new Promise<void>((r) => (release = r)),
    );
    await expect(
      lock.withLock('cluster:seat:1', 5_000, () => Promise.resolve('second')),
    ).rejects.toBeInstanceOf(LockBusyError);
    release();
    await held;
    await expect(
      lock.withLock('cluster:seat:1', 5_000, () => Promise.resolve('again')),
    ).resolves.toBe('again');
  });

  it('should deliver room signals published to any master', async () => {
    const signals = new RedisRoomSignals(redis);
    const heard: number[] = [];
    try {
      await signals.onAdmissions((concertId) => heard.push(concertId));
      // PUBLISH goes to whichever node the client picks; the subscriber hears it on any node.
      for (let i = 0; i < 6; i++) await signals.announceAdmissions([100 + i]);
      await eventually(() =>
        Promise.resolve(expect([...heard].sort()).toEqual([100, 101, 102, 103, 104, 105])),
      );
    } finally {
      await signals.onApplicationShutdown();
    }
  });

  it('should publish and read the audit result (one MULTI, one MGET) on the cluster', async () => {
    const store = new AuditResultRedisStore(redis);
    const slots = await Promise.all(Object.values(AUDIT_KEYS).map(slotOf));
    expect(new Set(slots).size).toBe(1);

    expect(await store.claimPeriod(60)).toBe(true);
    expect(await store.claimPeriod(60)).toBe(false);
    const checkedAt = new Date('2026-12-01T10:00:00Z');
    await store.publish(new AuditReport(checkedAt, [], [], 12));
    expect(await store.latest()).toMatchObject({
      checkedAt,
      durationMs: 12,
      lastCompleteAt: checkedAt,
    });
    await redis.del(...Object.values(AUDIT_KEYS));
  });
});
