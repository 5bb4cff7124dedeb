import { QueueEntry, RoomTick } from './queue-entry';
import { RoomSettings, RoomStats } from './waiting-room';

/** A live token's owner and state, as the guard needs it. */
export interface TokenHolder {
  userId: string;
  status: 'WAITING' | 'ACTIVE';
}

/**
 * The waiting rooms' store (Redis). Every method is one atomic step on one room's state, so any
 * number of instances may call any of them at the same moment. Times are the store's own clock.
 * Each call takes the room's settings as this instance knows them.
 */
export abstract class QueueRepository {
  /** The user's live entry in the room (touched as a poll when WAITING), or null. */
  abstract findLiveEntryOfUser(userId: string, room: RoomSettings): Promise<QueueEntry | null>;
  /**
   * Adds the user at the end of the room's line (or its pre-queue) with `token`, unless they
   * already have a live entry there, which is returned instead (created = false). 'not-open'
   * when the room's opensAt has not come yet. `sortKey` orders a pre-queue join.
   */
  abstract join(
    userId: string,
    token: string,
    sortKey: number,
    room: RoomSettings,
  ): Promise<{ entry: QueueEntry; created: boolean } | 'not-open'>;
  /** The token's live entry, counting the read as a poll when WAITING; null when not live. */
  abstract poll(token: string, room: RoomSettings): Promise<QueueEntry | null>;
  /** poll() for many tokens of one room in one step; the answers are in the tokens' order. */
  abstract pollMany(tokens: string[], room: RoomSettings): Promise<(QueueEntry | null)[]>;
  /** Who holds the token and whether it is ACTIVE; not a poll. Null when not live. */
  abstract inspect(token: string, room: RoomSettings): Promise<TokenHolder | null>;
  /** One admission step of the room: expiry, idle drop (each at most `limit`), start, admission. */
  abstract tick(room: RoomSettings, limit: number): Promise<RoomTick>;
  /**
   * Ends the token now (ACTIVE or WAITING) and remembers its owner for `retainSeconds`.
   * `knownOwner` is recorded when the live entry is already gone. Returns whether it was live.
   */
  abstract retire(
    token: string,
    concertId: number,
    knownOwner: string | null,
    retainSeconds: number,
  ): Promise<boolean>;
  abstract findRetiredOwner(token: string, concertId: number): Promise<string | null>;
  abstract stats(concertId: number): Promise<RoomStats>;
  /** Puts the room on the admission job's list (before a join, so no waiting user is missed). */
  abstract registerRoom(concertId: number): Promise<void>;
  /** The rooms the admission job visits. */
  abstract listRooms(): Promise<number[]>;
  /** Takes an empty room off the list unless it was registered after `lastJoinBeforeMs`. */
  abstract unregisterRoom(concertId: number, lastJoinBeforeMs: number): Promise<void>;
}
