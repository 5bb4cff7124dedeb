import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { queueConfig, QueueConfig } from '../../../common/config/configuration';
import { BatchedLoader } from '../../../common/batching/batched-loader';
import { SETTINGS_CACHE_MAX_ROOMS, SETTINGS_REFRESH_INTERVAL_MS } from '../queue.constants';
import {
  assertCoherentSchedule,
  effectiveRoomSettings,
  RoomSettings,
  StoredRoomSettings,
  UNCONFIGURED_ROOM,
} from './waiting-room';
import { WaitingRoomRepository } from './waiting-room.repository';

/**
 * Each room's settings as this instance runs them. The queue's hot paths (polls, guards, the
 * admission job) must not ask MySQL per request, so every room this instance has seen is kept in
 * memory and all of them are re-read in one query every SETTINGS_REFRESH_INTERVAL_MS: a change
 * saved on any instance is in force everywhere within that interval plus one query. While MySQL
 * is unreachable the last known settings stay in force, so the queue keeps working on Redis alone.
 */
@Injectable()
export class WaitingRoomService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WaitingRoomService.name);
  /** What MySQL said per room; insertion order decides eviction (the oldest first). */
  private readonly known = new Map<number, StoredRoomSettings>();
  /** The effective settings per known room, rebuilt only when its stored settings change. */
  private readonly effective = new Map<number, RoomSettings>();
  private readonly loader = new BatchedLoader<number, StoredRoomSettings>((ids) =>
    this.rooms.findStored(ids),
  );
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private refreshFailing = false;

  constructor(
    private readonly rooms: WaitingRoomRepository,
    @Inject(queueConfig.KEY) private readonly defaults: QueueConfig,
  ) {}

  onModuleInit(): void {
    this.refreshTimer = setInterval(() => void this.refresh(), SETTINGS_REFRESH_INTERVAL_MS);
    this.refreshTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.refreshTimer);
  }

  /**
   * The settings of a room this instance already knows, without a promise: the status poll, the
   * hottest path, takes them from here.
   */
  cached(concertId: number): RoomSettings | undefined {
    return this.effective.get(concertId);
  }

  /** The room's settings; the first lookup of a room on this instance reads MySQL (batched). */
  async settingsOf(concertId: number): Promise<RoomSettings> {
    const known = this.effective.get(concertId);
    if (known) return known;
    const stored = (await this.loader.load(concertId)) ?? UNCONFIGURED_ROOM;
    return this.effective.get(concertId) ?? this.remember(concertId, stored);
  }

  /** Replaces the room's settings (PUT semantics) and applies them on this instance at once. */
  async configure(concertId: number, stored: StoredRoomSettings): Promise<RoomSettings> {
    assertCoherentSchedule(stored);
    await this.rooms.save(concertId, stored);
    return this.remember(concertId, stored);
  }

  /** Re-reads every known room; exposed so tests need not wait for the timer. */
  async refresh(): Promise<void> {
    if (this.refreshing || this.known.size === 0) return;
    this.refreshing = true;
    try {
      const ids = [...this.known.keys()];
      const fresh = await this.rooms.findStored(ids);
      for (const id of ids) {
        // A room evicted meanwhile stays evicted; the rest take what MySQL says now.
        if (this.known.has(id)) this.update(id, fresh.get(id) ?? UNCONFIGURED_ROOM);
      }
      if (this.refreshFailing) this.logger.log('room settings refresh recovered');
      this.refreshFailing = false;
    } catch (error) {
      // Logged once per outage, not twice a second.
      if (!this.refreshFailing) {
        this.logger.warn(
          `room settings refresh failed, keeping the last known settings: ${String(error)}`,
        );
      }
      this.refreshFailing = true;
    } finally {
      this.refreshing = false;
    }
  }

  private remember(concertId: number, stored: StoredRoomSettings): RoomSettings {
    if (!this.known.has(concertId) && this.known.size >= SETTINGS_CACHE_MAX_ROOMS) {
      const oldest = this.known.keys().next().value as number;
      this.known.delete(oldest);
      this.effective.delete(oldest);
    }
    return this.update(concertId, stored);
  }

  private update(concertId: number, stored: StoredRoomSettings): RoomSettings {
    const current = this.effective.get(concertId);
    if (current && sameStored(this.known.get(concertId), stored)) {
      this.known.set(concertId, stored);
      return current;
    }
    const settings = effectiveRoomSettings(concertId, stored, this.defaults);
    this.known.set(concertId, stored);
    this.effective.set(concertId, settings);
    return settings;
  }
}

/** Whether a refresh changed anything (so unchanged rooms keep their settings object). */
function sameStored(a: StoredRoomSettings | undefined, b: StoredRoomSettings): boolean {
  if (!a) return false;
  if (a === b) return true;
  return (
    a.maxActiveUsers === b.maxActiveUsers &&
    a.admitPerSecond === b.admitPerSecond &&
    a.activeTtlSeconds === b.activeTtlSeconds &&
    a.waitingIdleSeconds === b.waitingIdleSeconds &&
    a.opensAt?.getTime() === b.opensAt?.getTime() &&
    a.admissionStartsAt?.getTime() === b.admissionStartsAt?.getTime() &&
    a.order === b.order
  );
}
