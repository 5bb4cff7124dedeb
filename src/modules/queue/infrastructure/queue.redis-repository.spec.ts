import Redis from 'ioredis';
import { QUEUE_KEYS } from '../queue.constants';
import { QueueRedisRepository } from './queue.redis-repository';
import { ScriptDefinition } from './queue.scripts';

const TOKEN = '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11';
const USER = '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11';
const NOW = 1_800_000_000_000;

type Reply = (string | number)[] | number;

interface Call {
  name: string;
  keys: string[];
  args: string[];
}

/**
 * A fake ioredis client: defineCommand registers each script, and a call is split into KEYS and
 * ARGV by the script's own numberOfKeys (as Redis would), recorded, and answered by a canned
 * handler that speaks the scripts' reply encoding. Arguments travel as strings, as on the wire.
 */
class FakeRedis {
  calls: Call[] = [];
  handlers: Record<string, (call: Call) => Reply> = {};
  [name: string]: unknown;

  defineCommand(name: string, definition: ScriptDefinition): void {
    this[name] = (...keysAndArgs: (string | number)[]) => {
      const all = keysAndArgs.map(String);
      const call = {
        name,
        keys: all.slice(0, definition.numberOfKeys),
        args: all.slice(definition.numberOfKeys),
      };
      this.calls.push(call);
      const handler = this.handlers[name];
      return Promise.resolve(handler ? handler(call) : 0);
    };
  }
}

/** WAITING and ACTIVE replies as the scripts build them; HGET answers concertId as a string. */
const waitingReply = (concertId: string | number) => [
  1,
  TOKEN,
  USER,
  concertId,
  3,
  NOW,
  2,
  10,
  NOW - 30_000,
];
const activeReply = (concertId: string | number) => [2, TOKEN, USER, concertId, NOW + 600_000];

describe('QueueRedisRepository (reply encoding, fake Redis)', () => {
  let redis: FakeRedis;
  let repository: QueueRedisRepository;

  beforeEach(() => {
    redis = new FakeRedis();
    repository = new QueueRedisRepository(redis as unknown as Redis);
  });

  it('should round-trip the concertId of a new token through the join script', async () => {
    // Like the script: record ARGV concertId for the new token, answer it back in the entry.
    const stored = new Map<string, string>();
    redis.handlers.queueJoin = ({ args: [, token, , , concertId] }) => {
      stored.set(token, concertId);
      return [1, 1, token, USER, stored.get(token)!, 1, NOW, 0, 0, -1];
    };

    const { entry, created } = await repository.join(USER, 42, TOKEN, 120);

    expect(created).toBe(true);
    expect(entry).toMatchObject({ status: 'WAITING', token: TOKEN, concertId: 42, position: 1 });
    expect(stored.get(TOKEN)).toBe('42');
    const [call] = redis.calls;
    expect(call.keys).toContain(QUEUE_KEYS.concerts);
    expect(call.args).toEqual([USER, TOKEN, '120000', '60000', '42']);
  });

  it('should decode the original concertId of a returning user, WAITING or ACTIVE', async () => {
    redis.handlers.queueJoin = () => [0, ...waitingReply('7')];
    await expect(repository.join(USER, 99, TOKEN, 120)).resolves.toEqual({
      created: false,
      entry: {
        status: 'WAITING',
        token: TOKEN,
        userId: USER,
        concertId: 7,
        position: 3,
        admission: {
          nowMs: NOW,
          activeCount: 2,
          admittedInWindow: 10,
          oldestAdmissionMs: NOW - 30_000,
        },
      },
    });
    redis.handlers.queueJoin = () => [0, ...activeReply('7')];
    await expect(repository.findLiveEntryOfUser(USER, 120)).resolves.toEqual({
      status: 'ACTIVE',
      token: TOKEN,
      userId: USER,
      concertId: 7,
      activeUntil: new Date(NOW + 600_000),
    });
    redis.handlers.queueJoin = () => [-1];
    await expect(repository.findLiveEntryOfUser(USER, 120)).resolves.toBeNull();
  });

  it('should decode the concertId of a poll in one script call', async () => {
    redis.handlers.queuePoll = () => waitingReply('5');
    await expect(repository.poll(TOKEN, 120)).resolves.toMatchObject({
      status: 'WAITING',
      concertId: 5,
      position: 3,
      admission: { oldestAdmissionMs: NOW - 30_000 },
    });
    redis.handlers.queuePoll = () => activeReply(5);
    await expect(repository.poll(TOKEN, 120)).resolves.toMatchObject({
      status: 'ACTIVE',
      concertId: 5,
      activeUntil: new Date(NOW + 600_000),
    });
    redis.handlers.queuePoll = () => [0];
    await expect(repository.poll(TOKEN, 120)).resolves.toBeNull();
    expect(redis.calls.map((call) => call.name)).toEqual(['queuePoll', 'queuePoll', 'queuePoll']);
    expect(redis.calls[0].keys).toContain(QUEUE_KEYS.concerts);
  });

  it('should carry the concertId on the pass inspect returns', async () => {
    redis.handlers.queueInspect = () => [2, USER, '11'];
    await expect(repository.inspect(TOKEN, 120)).resolves.toEqual({
      token: TOKEN,
      userId: USER,
      concertId: 11,
      status: 'ACTIVE',
    });
    redis.handlers.queueInspect = () => [1, USER, '11'];
    await expect(repository.inspect(TOKEN, 120)).resolves.toMatchObject({ status: 'WAITING' });
    redis.handlers.queueInspect = () => [0];
    await expect(repository.inspect(TOKEN, 120)).resolves.toBeNull();
  });

  it('should give every script that forgets a token the concerts key', async () => {
    redis.handlers.queueJoin = () => [1, ...activeReply(1)];
    await repository.expireActive(10);
    await repository.dropIdle(120, 10);
    await repository.retire(TOKEN, USER, 90_000);
    await repository.join(USER, 1, TOKEN, 120);
    expect(redis.calls).toHaveLength(4);
    for (const call of redis.calls) expect(call.keys).toContain(QUEUE_KEYS.concerts);
  });

  it('should pass every key in KEYS and nothing but keys', async () => {
    redis.handlers.queueJoin = () => [1, ...activeReply(1)];
    redis.handlers.queueInspect = () => [0];
    redis.handlers.queuePoll = () => [0];
    redis.handlers.queueCounts = () => [0, 0];
    await repository.join(USER, 1, TOKEN, 120);
    await repository.poll(TOKEN, 120);
    await repository.inspect(TOKEN, 120);
    await repository.expireActive(10);
    await repository.dropIdle(120, 10);
    await repository.admit({
      maxActiveUsers: 1,
      admitPerSecond: 1,
      activeTtlSeconds: 10,
      waitingIdleSeconds: 10,
    });
    await repository.retire(TOKEN, null, 90_000);
    await repository.counts();
    expect(redis.calls).toHaveLength(8);
    for (const call of redis.calls) {
      expect(call.keys.every((key) => key.startsWith('queue:'))).toBe(true);
      expect(call.args.some((arg) => arg.startsWith('queue:'))).toBe(false);
    }
  });
});
