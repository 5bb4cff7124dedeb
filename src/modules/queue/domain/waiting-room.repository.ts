import { StoredRoomSettings } from './waiting-room';

/** Where operators' room settings live (MySQL): durable, unlike the queue state in Redis. */
export abstract class WaitingRoomRepository {
  /** The stored settings of each of these concerts that has any (absent = never configured). */
  abstract findStored(concertIds: number[]): Promise<Map<number, StoredRoomSettings>>;
  /** Replaces the concert's stored settings. */
  abstract save(concertId: number, settings: StoredRoomSettings): Promise<void>;
}
