import { AdmissionLimits } from './admission-policy';
import { ActivePass, QueueCounts, QueueEntry } from './queue-entry';

/**
 * The waiting queue's store (Redis). Every method is one atomic step on the shared state, so any
 * number of instances may call any of them at the same moment. Times are the store's own clock.
 */
export abstract class QueueRepository {
  /** The user's live entry (touched as a poll when WAITING), or null when they have none. */
  abstract findLiveEntryOfUser(userId: string, idleSeconds: number): Promise<QueueEntry | null>;
  /**
   * Adds the user at the end of the line with `token`, recording `concertId` with it, unless they
   * already have a live entry, which is returned instead (created = false) with the concert it
   * was issued for.
   */
  abstract join(
    userId: string,
    concertId: number,
    token: string,
    idleSeconds: number,
  ): Promise<{ entry: QueueEntry; created: boolean }>;
  /** The token's live entry, counting the read as a poll when WAITING; null when not live. */
  abstract poll(token: string, idleSeconds: number): Promise<QueueEntry | null>;
  /** Who holds the token, for which concert, and whether it is ACTIVE; not a poll. */
  abstract inspect(
    token: string,
    idleSeconds: number,
  ): Promise<(ActivePass & { status: 'WAITING' | 'ACTIVE' }) | null>;
  /** Removes ACTIVE tokens past their expiry (at most `limit`); returns how many. */
  abstract expireActive(limit: number): Promise<number>;
  /** Removes WAITING entries not polled for `idleSeconds` (at most `limit`); returns how many. */
  abstract dropIdle(idleSeconds: number, limit: number): Promise<number>;
  /** Admits waiting users in FIFO order within both limits; returns how many. */
  abstract admit(limits: AdmissionLimits): Promise<number>;
  /**
   * Ends the token now (ACTIVE or WAITING) and remembers its owner for `retainSeconds`.
   * `knownOwner` is recorded when the live entry is already gone. Returns whether it was live.
   */
  abstract retire(
    token: string,
    knownOwner: string | null,
    retainSeconds: number,
  ): Promise<boolean>;
  abstract findRetiredOwner(token: string): Promise<string | null>;
  abstract counts(): Promise<QueueCounts>;
}
