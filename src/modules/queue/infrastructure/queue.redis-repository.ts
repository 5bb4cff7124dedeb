import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { AdmissionLimits } from '../domain/admission-policy';
import { ActivePass, QueueCounts, QueueEntry } from '../domain/queue-entry';
import { QueueRepository } from '../domain/queue.repository';
import { ADMISSION_WINDOW_SECONDS, QUEUE_KEYS } from '../queue.constants';
import { QUEUE_SCRIPTS } from './queue.scripts';

type Reply = (string | number)[];
type ScriptCall = (...keysAndArgs: (string | number)[]) => Promise<Reply | number>;
type QueueScriptName = keyof typeof QUEUE_SCRIPTS;

const WINDOW_MS = ADMISSION_WINDOW_SECONDS * 1000;
const K = QUEUE_KEYS;

/**
 * The queue's state in Redis: sorted sets for the line and the ACTIVE tokens, hashes for
 * ownership, one Lua script per change (see queue.scripts.ts and docs/queue.md). Scripts are
 * registered with ioredis, which sends EVALSHA and falls back to EVAL after a Redis restart.
 */
@Injectable()
export class QueueRedisRepository extends QueueRepository {
  constructor(@Inject(Redis) private readonly redis: Redis) {
    super();
    for (const [name, script] of Object.entries(QUEUE_SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
  }

  async findLiveEntryOfUser(userId: string, idleSeconds: number): Promise<QueueEntry | null> {
    const reply = await this.joinScript(userId, '', idleSeconds, '');
    return reply[0] === -1 ? null : toEntry(reply.slice(1));
  }

  async join(
    userId: string,
    concertId: number,
    token: string,
    idleSeconds: number,
  ): Promise<{ entry: QueueEntry; created: boolean }> {
    const reply = await this.joinScript(userId, token, idleSeconds, concertId);
    const entry = toEntry(reply.slice(1));
    if (!entry) throw new Error('queue join script returned no entry');
    return { entry, created: reply[0] === 1 };
  }

  async poll(token: string, idleSeconds: number): Promise<QueueEntry | null> {
    const reply = await this.call(
      'queuePoll',
      [K.owners, K.waiting, K.seen, K.active, K.admitted, K.concerts],
      [token, idleSeconds * 1000, WINDOW_MS],
    );
    return toEntry(reply as Reply);
  }

  async inspect(
    token: string,
    idleSeconds: number,
  ): Promise<(ActivePass & { status: 'WAITING' | 'ACTIVE' }) | null> {
    const [state, userId, concertId] = (await this.call(
      'queueInspect',
      [K.owners, K.active, K.seen, K.concerts],
      [token, idleSeconds * 1000],
    )) as Reply;
    if (state === 0) return null;
    return {
      token,
      userId: String(userId),
      concertId: Number(concertId),
      status: state === 2 ? 'ACTIVE' : 'WAITING',
    };
  }

  async expireActive(limit: number): Promise<number> {
    return Number(
      await this.call('queueExpire', [K.active, K.owners, K.users, K.concerts], [limit]),
    );
  }

  async dropIdle(idleSeconds: number, limit: number): Promise<number> {
    return Number(
      await this.call(
        'queueDropIdle',
        [K.waiting, K.seen, K.owners, K.users, K.concerts],
        [idleSeconds * 1000, limit],
      ),
    );
  }

  async admit(limits: AdmissionLimits): Promise<number> {
    return Number(
      await this.call(
        'queueAdmit',
        [K.waiting, K.seen, K.active, K.admitted],
        [
          limits.maxActiveUsers,
          limits.admitPerSecond,
          limits.activeTtlSeconds * 1000,
          WINDOW_MS,
          limits.waitingIdleSeconds * 1000,
        ],
      ),
    );
  }

  async retire(token: string, knownOwner: string | null, retainSeconds: number): Promise<boolean> {
    const onRecord = await this.call(
      'queueRetire',
      [K.active, K.waiting, K.seen, K.owners, K.users, K.retired(token), K.concerts],
      [token, knownOwner ?? '', retainSeconds],
    );
    return onRecord === 1;
  }

  findRetiredOwner(token: string): Promise<string | null> {
    return this.redis.get(K.retired(token));
  }

  async counts(): Promise<QueueCounts> {
    const [waiting, active] = (await this.call('queueCounts', [K.waiting, K.active], [])) as Reply;
    return { waiting: Number(waiting), active: Number(active) };
  }

  private async joinScript(
    userId: string,
    token: string,
    idleSeconds: number,
    concertId: number | '',
  ): Promise<Reply> {
    return (await this.call(
      'queueJoin',
      [K.users, K.owners, K.waiting, K.seen, K.active, K.admitted, K.sequence, K.concerts],
      [userId, token, idleSeconds * 1000, WINDOW_MS, concertId],
    )) as Reply;
  }

  private call(
    name: QueueScriptName,
    keys: string[],
    args: (string | number)[],
  ): Promise<Reply | number> {
    const script = (this.redis as unknown as Record<QueueScriptName, ScriptCall>)[name];
    return script.call(this.redis, ...keys, ...args);
  }
}

/** Decodes the entry encoding shared by the scripts (see queue.scripts.ts). */
function toEntry(reply: Reply): QueueEntry | null {
  const [kind, token, userId, concertId] = reply;
  if (kind === 2) {
    return {
      status: 'ACTIVE',
      token: String(token),
      userId: String(userId),
      concertId: Number(concertId),
      activeUntil: new Date(Number(reply[4])),
    };
  }
  if (kind === 1) {
    const [position, nowMs, activeCount, admittedInWindow, oldest] = reply.slice(4).map(Number);
    return {
      status: 'WAITING',
      token: String(token),
      userId: String(userId),
      concertId: Number(concertId),
      position,
      admission: {
        nowMs,
        activeCount,
        admittedInWindow,
        oldestAdmissionMs: oldest < 0 ? null : oldest,
      },
    };
  }
  return null;
}
