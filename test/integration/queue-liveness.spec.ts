import { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisClient } from '../../src/common/redis/redis-client';
import { RoomSettings } from '../../src/modules/queue/domain/waiting-room';
import { QueueRedisRepository } from '../../src/modules/queue/infrastructure/queue.redis-repository';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { startModules } from '../support/modules';

const IDLE_SECONDS = 60;
// Far from the idle limit and the expiry on both sides, so the few ms between reading the Redis
// clock and running the scripts cannot move a token across either line.
const MARGIN_MS = 5_000;

/**
 * Queue liveness has one home, the Lua `liveState` and `polledWithin`; the admission step's
 * sweeps (expiry of ACTIVE tokens, the idle drop of WAITING ones) are written as range queries.
 * On the same tokens, just inside and just outside each limit, the guard's read (queueInspect),
 * the status poll (queuePoll) and the admission step (queueTick) must agree on who is live.
 */
describe('Queue liveness: the guard, the poll and the admission step agree', () => {
  let app: INestApplicationContext;
  let redis: RedisClient;
  let queue: QueueRedisRepository;
  let concertId = 900_000;

  beforeAll(async () => {
    app = await startModules([]);
    redis = app.get<RedisClient>(Redis);
    queue = new QueueRedisRepository(redis);
  });

  afterAll(() => app?.close());

  // A room that admits nobody, so the admission step only sweeps.
  const room = (): RoomSettings => ({
    concertId: ++concertId,
    maxActiveUsers: 0,
    admitPerSecond: 0,
    activeTtlSeconds: 60,
    waitingIdleSeconds: IDLE_SECONDS,
    opensAt: null,
    admissionStartsAt: null,
    order: 'FIFO',
  });

  const redisNowMs = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };

  async function waitingToken(settings: RoomSettings, lastPolledAt: number): Promise<string> {
    const token = `${settings.concertId}.${randomUUID()}`;
    const joined = await queue.join(`user-${randomUUID()}`, token, 0, settings);
    if (joined === 'not-open' || !joined.created) throw new Error('join did not create the entry');
    await redis.zadd(roomKeys(settings.concertId).seen, lastPolledAt, token);
    return token;
  }

  async function activeToken(settings: RoomSettings, expiresAt: number): Promise<string> {
    const token = await waitingToken(settings, await redisNowMs());
    const keys = roomKeys(settings.concertId);
    await redis.zrem(keys.waiting, token);
    await redis.zrem(keys.seen, token);
    await redis.zadd(keys.active, expiresAt, token);
    return token;
  }

  it('should treat a WAITING token as live exactly while its last poll is within the idle limit', async () => {
    const settings = room();
    const now = await redisNowMs();
    const idleMs = IDLE_SECONDS * 1000;
    const fresh = await waitingToken(settings, now - idleMs + MARGIN_MS);
    const idle = await waitingToken(settings, now - idleMs - MARGIN_MS);

    await expect(queue.inspect(fresh, settings)).resolves.toMatchObject({ status: 'WAITING' });
    await expect(queue.inspect(idle, settings)).resolves.toBeNull();

    const tick = await queue.tick(settings, 100);
    expect(tick).toMatchObject({ dropped: 1, admitted: 0, waiting: 1 });
    // The drop removed the idle one only; the fresh one is still in line for the poll.
    expect(await redis.zscore(roomKeys(settings.concertId).waiting, idle)).toBeNull();
    await expect(queue.poll(fresh, settings)).resolves.toMatchObject({ status: 'WAITING' });
    await expect(queue.poll(idle, settings)).resolves.toBeNull();
  });

  it('should treat an ACTIVE token as live exactly until its expiry', async () => {
    const settings = room();
    const now = await redisNowMs();
    const live = await activeToken(settings, now + MARGIN_MS);
    const expired = await activeToken(settings, now - MARGIN_MS);

    await expect(queue.inspect(live, settings)).resolves.toMatchObject({ status: 'ACTIVE' });
    await expect(queue.inspect(expired, settings)).resolves.toBeNull();

    const tick = await queue.tick(settings, 100);
    expect(tick).toMatchObject({ expired: 1, active: 1 });
    await expect(queue.poll(live, settings)).resolves.toMatchObject({ status: 'ACTIVE' });
    await expect(queue.poll(expired, settings)).resolves.toBeNull();
  });

  it('should never admit a WAITING token past its idle limit that the drop batch did not reach', async () => {
    const settings = { ...room(), maxActiveUsers: 10, admitPerSecond: 10 };
    const now = await redisNowMs();
    const idleMs = IDLE_SECONDS * 1000;
    // Both at the head of the line; a drop limit of 1 leaves one idle token in place.
    const idle = [
      await waitingToken(settings, now - idleMs - MARGIN_MS),
      await waitingToken(settings, now - idleMs - MARGIN_MS),
    ];
    const fresh = await waitingToken(settings, now - idleMs + MARGIN_MS);

    const tick = await queue.tick(settings, 1);
    expect(tick).toMatchObject({ dropped: 1, admitted: 1 });
    await expect(queue.inspect(fresh, settings)).resolves.toMatchObject({ status: 'ACTIVE' });
    for (const token of idle) await expect(queue.inspect(token, settings)).resolves.toBeNull();
  });
});
