import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RedisClient } from '../../../common/redis/redis-client';
import { QueueEntry, RoomTick } from '../domain/queue-entry';
import { QueueRepository, TokenHolder } from '../domain/queue.repository';
import { RoomSchedule, roomSchedule, RoomSettings, RoomStats } from '../domain/waiting-room';
import { ADMISSION_WINDOW_SECONDS, ROOM_REGISTRY_KEY, roomKeys } from '../queue.constants';
import { QUEUE_SCRIPTS, ROOM_KEY_ORDER } from './queue.scripts';

type Reply = (string | number)[];
type ScriptCall = (...keysAndArgs: (string | number)[]) => Promise<unknown>;
type QueueScriptName = keyof typeof QUEUE_SCRIPTS;

const WINDOW_MS = ADMISSION_WINDOW_SECONDS * 1000;

// Built once per room: the status poll is the hot path, and the names never change.
const keyLists = new Map<number, string[]>();
const schedules = new WeakMap<RoomSettings, RoomSchedule>();

/** The room's keys in the order every room script expects them. */
function roomKeyList(concertId: number): string[] {
  let list = keyLists.get(concertId);
  if (!list) {
    const keys = roomKeys(concertId);
    list = ROOM_KEY_ORDER.map((name) => keys[name]);
    if (keyLists.size >= 10_000) keyLists.clear();
    keyLists.set(concertId, list);
  }
  return list;
}

function scheduleOf(room: RoomSettings): RoomSchedule {
  let schedule = schedules.get(room);
  if (!schedule) {
    schedule = roomSchedule(room);
    schedules.set(room, schedule);
  }
  return schedule;
}

/**
 * The rooms' state in Redis: sorted sets for the line, the pre-queue and the ACTIVE tokens,
 * hashes for ownership, one Lua script per change (see queue.scripts.ts and docs/queue.md).
 * Scripts are registered with ioredis, which sends EVALSHA and falls back to EVAL after a Redis
 * restart.
 */
@Injectable()
export class QueueRedisRepository extends QueueRepository {
  constructor(@Inject(Redis) private readonly redis: RedisClient) {
    super();
    for (const [name, script] of Object.entries(QUEUE_SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
  }

  async findLiveEntryOfUser(userId: string, room: RoomSettings): Promise<QueueEntry | null> {
    const reply = await this.joinScript(userId, '', 0, room);
    return reply[0] === -1 ? null : toEntry(reply.slice(1), room.concertId);
  }

  async join(
    userId: string,
    token: string,
    sortKey: number,
    room: RoomSettings,
  ): Promise<{ entry: QueueEntry; created: boolean } | 'not-open'> {
    const reply = await this.joinScript(userId, token, sortKey, room);
    if (reply[0] === -2) return 'not-open';
    const entry = toEntry(reply.slice(1), room.concertId);
    if (!entry) throw new Error('queue join script returned no entry');
    return { entry, created: reply[0] === 1 };
  }

  async poll(token: string, room: RoomSettings): Promise<QueueEntry | null> {
    const reply = await this.call('queuePoll', roomKeyList(room.concertId), [
      token,
      room.waitingIdleSeconds * 1000,
      WINDOW_MS,
      scheduleOf(room).shuffleAtMs,
    ]);
    return toEntry(reply as Reply, room.concertId);
  }

  async pollMany(tokens: string[], room: RoomSettings): Promise<(QueueEntry | null)[]> {
    if (tokens.length === 0) return [];
    const replies = (await this.call('queuePollMany', roomKeyList(room.concertId), [
      room.waitingIdleSeconds * 1000,
      WINDOW_MS,
      scheduleOf(room).shuffleAtMs,
      ...tokens,
    ])) as Reply[];
    return replies.map((reply) => toEntry(reply, room.concertId));
  }

  async inspect(token: string, room: RoomSettings): Promise<TokenHolder | null> {
    const [state, userId] = (await this.call('queueInspect', roomKeyList(room.concertId), [
      token,
      room.waitingIdleSeconds * 1000,
    ])) as Reply;
    if (state === 0) return null;
    return { userId: String(userId), status: state === 2 ? 'ACTIVE' : 'WAITING' };
  }

  async tick(room: RoomSettings, limit: number): Promise<RoomTick> {
    const schedule = scheduleOf(room);
    const reply = (await this.call('queueTick', roomKeyList(room.concertId), [
      room.maxActiveUsers,
      room.admitPerSecond,
      room.activeTtlSeconds * 1000,
      WINDOW_MS,
      room.waitingIdleSeconds * 1000,
      schedule.admissionStartsAtMs,
      schedule.shuffleAtMs,
      limit,
    ])) as Reply;
    const [expired, dropped, admitted, started, waiting, active, inWindow, nowMs] =
      reply.map(Number);
    return {
      concertId: room.concertId,
      expired,
      dropped,
      admitted,
      started: started === 1,
      waiting,
      active,
      admittedLastMinute: inWindow,
      nowMs,
    };
  }

  async retire(
    token: string,
    concertId: number,
    knownOwner: string | null,
    retainSeconds: number,
  ): Promise<boolean> {
    const onRecord = await this.call(
      'queueRetire',
      [...roomKeyList(concertId), roomKeys(concertId).retired(token)],
      [token, knownOwner ?? '', retainSeconds],
    );
    return onRecord === 1;
  }

  findRetiredOwner(token: string, concertId: number): Promise<string | null> {
    return this.redis.get(roomKeys(concertId).retired(token));
  }

  async stats(concertId: number): Promise<RoomStats> {
    const [waiting, active, admittedLastMinute] = (
      (await this.call('queueStats', roomKeyList(concertId), [WINDOW_MS])) as Reply
    ).map(Number);
    return { waiting, active, admittedLastMinute };
  }

  async registerRoom(concertId: number): Promise<void> {
    // This instance's clock is good enough here: removal waits for an hour without joins.
    await this.redis.zadd(ROOM_REGISTRY_KEY, Date.now(), concertId);
  }

  async listRooms(): Promise<number[]> {
    return (await this.redis.zrange(ROOM_REGISTRY_KEY, 0, -1)).map(Number);
  }

  async unregisterRoom(concertId: number, lastJoinBeforeMs: number): Promise<void> {
    await this.call('queueUnregisterRoom', [ROOM_REGISTRY_KEY], [concertId, lastJoinBeforeMs]);
  }

  private async joinScript(
    userId: string,
    token: string,
    sortKey: number,
    room: RoomSettings,
  ): Promise<Reply> {
    const schedule = scheduleOf(room);
    return (await this.call('queueJoin', roomKeyList(room.concertId), [
      userId,
      token,
      room.waitingIdleSeconds * 1000,
      WINDOW_MS,
      schedule.opensAtMs,
      schedule.shuffleAtMs,
      sortKey,
    ])) as Reply;
  }

  private call(name: QueueScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const script = (this.redis as unknown as Record<QueueScriptName, ScriptCall>)[name];
    return script.call(this.redis, ...keys, ...args);
  }
}

/** Decodes the entry encoding shared by the scripts (see queue.scripts.ts). */
function toEntry(reply: Reply, concertId: number): QueueEntry | null {
  const [kind, token, userId] = reply;
  if (kind === 2) {
    return {
      status: 'ACTIVE',
      token: String(token),
      userId: String(userId),
      concertId,
      activeUntil: new Date(Number(reply[3])),
      nowMs: Number(reply[4]),
    };
  }
  if (kind === 1) {
    const [position, nowMs, activeCount, admittedInWindow, oldest, preQueueSize] = reply
      .slice(3)
      .map(Number);
    return {
      status: 'WAITING',
      token: String(token),
      userId: String(userId),
      concertId,
      position: position < 0 ? null : position,
      admission: {
        nowMs,
        activeCount,
        admittedInWindow,
        oldestAdmissionMs: oldest < 0 ? null : oldest,
        preQueueSize,
      },
    };
  }
  return null;
}
