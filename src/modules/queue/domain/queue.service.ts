import { Injectable } from '@nestjs/common';
import {
  CLEANUP_BATCH_SIZE,
  RETIRED_TOKEN_RETENTION_SECONDS,
  ROOM_REGISTRY_IDLE_MS,
} from '../queue.constants';
import { AdmissionPolicy } from './admission-policy';
import { preQueueSortKey } from './pre-queue';
import { ActivePass, QueueEntry, QueueTicket, RoomTick } from './queue-entry';
import { QueueRepository } from './queue.repository';
import { newQueueToken, ParsedQueueToken, parseQueueToken } from './queue-token';
import {
  queueTokenInvalid,
  queueTokenNotActive,
  queueTokenOtherConcert,
  waitingRoomNotOpen,
} from './queue.errors';
import { RoomSettings, RoomStats } from './waiting-room';
import { WaitingRoomService } from './waiting-room.service';

/** The waiting rooms: who is in which line, who may enter, and when each token stops being valid. */
@Injectable()
export class QueueService {
  constructor(
    private readonly store: QueueRepository,
    private readonly rooms: WaitingRoomService,
  ) {}

  /** The user's live ticket in the concert's room, their place kept, or null. */
  async findLiveTicket(userId: string, concertId: number): Promise<QueueTicket | null> {
    const room = await this.rooms.settingsOf(concertId);
    const entry = await this.store.findLiveEntryOfUser(userId, room);
    return entry && ticketFor(room, entry);
  }

  /**
   * Joins the end of the concert's line (or its pre-queue before a random start); a user who got
   * a live token there meanwhile gets that one back. 409 WAITING_ROOM_NOT_OPEN before opensAt.
   */
  async join(
    userId: string,
    concertId: number,
  ): Promise<{ ticket: QueueTicket; created: boolean }> {
    const room = await this.rooms.settingsOf(concertId);
    await this.store.registerRoom(concertId);
    const joined = await this.store.join(userId, newQueueToken(concertId), preQueueSortKey(), room);
    if (joined === 'not-open') throw waitingRoomNotOpen(room.concertId, room.opensAt);
    return { ticket: ticketFor(room, joined.entry), created: joined.created };
  }

  /** A status poll: keeps a WAITING entry alive and says where it stands. */
  async status(rawToken: unknown): Promise<QueueTicket> {
    const { token, concertId } = parseQueueToken(rawToken);
    const room = this.rooms.cached(concertId) ?? (await this.rooms.settingsOf(concertId));
    const entry = await this.store.poll(token, room);
    if (!entry) throw queueTokenInvalid();
    return ticketFor(room, entry);
  }

  /**
   * Status polls of many tokens of one room in one store call (the event streams' tick). Null
   * for a token that is no longer live.
   */
  async statusOfMany(concertId: number, tokens: string[]): Promise<(QueueTicket | null)[]> {
    const room = await this.rooms.settingsOf(concertId);
    const entries = await this.store.pollMany(tokens, room);
    return entries.map((entry) => entry && ticketFor(room, entry));
  }

  /** The token's room, or 401 for anything that is not a token we could have issued. */
  parseToken(rawToken: unknown): ParsedQueueToken {
    return parseQueueToken(rawToken);
  }

  /**
   * Lets the caller through to an [active token] endpoint, or says why not (401 / 403). A token
   * is bound to its owner: someone else's is as invalid as an unknown one (no hint it exists).
   * Which concert it grants is the pass's `concertId` (see assertGrants).
   */
  async authorizeActive(rawToken: unknown, callerId: string): Promise<ActivePass> {
    const { token, concertId } = parseQueueToken(rawToken);
    const room = this.rooms.cached(concertId) ?? (await this.rooms.settingsOf(concertId));
    const holder = await this.store.inspect(token, room);
    if (!holder || holder.userId !== callerId) throw queueTokenInvalid();
    if (holder.status === 'WAITING') {
      throw queueTokenNotActive();
    }
    return { token, userId: holder.userId, concertId };
  }

  /** An ACTIVE token grants its own concert only: 403 QUEUE_TOKEN_OTHER_CONCERT elsewhere. */
  assertGrants(pass: Pick<ActivePass, 'concertId'>, concertId: number): void {
    if (pass.concertId !== concertId) {
      throw queueTokenOtherConcert(pass.concertId, concertId);
    }
  }

  /**
   * One admission step on every room with anyone in it (see the tick script). Rooms are
   * independent, so one failing room does not hold the others back; an emptied room leaves
   * the job's list once nobody joined it for an hour.
   */
  async admitAllRooms(): Promise<{ ticks: RoomTick[]; failed: number }> {
    const concertIds = await this.store.listRooms();
    const results = await Promise.allSettled(
      concertIds.map(async (concertId) => {
        const room = await this.rooms.settingsOf(concertId);
        return this.store.tick(room, CLEANUP_BATCH_SIZE);
      }),
    );
    const ticks: RoomTick[] = [];
    for (const result of results) {
      if (result.status === 'fulfilled') ticks.push(result.value);
    }
    await Promise.all(
      ticks
        .filter((tick) => tick.waiting === 0 && tick.active === 0)
        .map((tick) =>
          this.store.unregisterRoom(tick.concertId, tick.nowMs - ROOM_REGISTRY_IDLE_MS),
        ),
    );
    return { ticks, failed: results.length - ticks.length };
  }

  /**
   * Ends a token at once (a completed payment): it stops being valid and its ACTIVE slot frees.
   * Its owner is remembered for at least 24 h so an idempotent replay of that payment can still
   * be answered (see findRetiredTokenOwner). `userId` is the owner the caller already knows (from
   * the guard); it is recorded even if the TTL removed the live entry just before this call.
   */
  async retireToken(rawToken: string, userId?: string): Promise<void> {
    const { token, concertId } = parseQueueToken(rawToken);
    await this.store.retire(token, concertId, userId ?? null, RETIRED_TOKEN_RETENTION_SECONDS);
  }

  /** The owner of a token retired by retireToken within the last 24 h; null for anything else. */
  async findRetiredTokenOwner(rawToken: string): Promise<string | null> {
    let parsed: ParsedQueueToken;
    try {
      parsed = parseQueueToken(rawToken);
    } catch {
      return null;
    }
    return this.store.findRetiredOwner(parsed.token, parsed.concertId);
  }

  settingsOf(concertId: number): Promise<RoomSettings> {
    return this.rooms.settingsOf(concertId);
  }

  roomStats(concertId: number): Promise<RoomStats> {
    return this.store.stats(concertId);
  }
}

// One policy per settings object: a room's settings object only changes when its settings do.
const policies = new WeakMap<RoomSettings, AdmissionPolicy>();

function ticketFor(room: RoomSettings, entry: QueueEntry): QueueTicket {
  let policy = policies.get(room);
  if (!policy) {
    policy = new AdmissionPolicy(room);
    policies.set(room, policy);
  }
  return policy.ticketFor(entry);
}
