import { admissionBeforeOpening } from './queue.errors';

export const ROOM_ORDERS = ['FIFO', 'RANDOM_AT_START'] as const;
export type RoomOrder = (typeof ROOM_ORDERS)[number];

/** The admission limits of a room; the QUEUE_* environment values are every room's defaults. */
export interface RoomLimits {
  maxActiveUsers: number;
  admitPerSecond: number;
  activeTtlSeconds: number;
  waitingIdleSeconds: number;
}

/**
 * What an operator stored for one concert's room (PUT replaces it whole). A field left null
 * follows the environment default, so changing QUEUE_* later still reaches it.
 */
export interface StoredRoomSettings {
  maxActiveUsers: number | null;
  admitPerSecond: number | null;
  activeTtlSeconds: number | null;
  waitingIdleSeconds: number | null;
  opensAt: Date | null;
  admissionStartsAt: Date | null;
  order: RoomOrder | null;
}

export const UNCONFIGURED_ROOM: StoredRoomSettings = {
  maxActiveUsers: null,
  admitPerSecond: null,
  activeTtlSeconds: null,
  waitingIdleSeconds: null,
  opensAt: null,
  admissionStartsAt: null,
  order: null,
};

/** The settings a room runs with right now. */
export interface RoomSettings extends RoomLimits {
  concertId: number;
  opensAt: Date | null;
  admissionStartsAt: Date | null;
  order: RoomOrder;
}

/** A room never configured behaves as the single queue of version 1: open now, FIFO, env limits. */
export function effectiveRoomSettings(
  concertId: number,
  stored: StoredRoomSettings,
  defaults: RoomLimits,
): RoomSettings {
  return {
    concertId,
    maxActiveUsers: stored.maxActiveUsers ?? defaults.maxActiveUsers,
    admitPerSecond: stored.admitPerSecond ?? defaults.admitPerSecond,
    activeTtlSeconds: stored.activeTtlSeconds ?? defaults.activeTtlSeconds,
    waitingIdleSeconds: stored.waitingIdleSeconds ?? defaults.waitingIdleSeconds,
    opensAt: stored.opensAt,
    admissionStartsAt: stored.admissionStartsAt,
    order: stored.order ?? 'FIFO',
  };
}

/**
 * An on-sale runs open → start → admission: a room that starts admitting before it opens could
 * never hold anyone in its pre-queue, so that pairing is refused rather than silently ignored.
 */
export function assertCoherentSchedule(stored: StoredRoomSettings): void {
  const { opensAt, admissionStartsAt } = stored;
  if (opensAt && admissionStartsAt && admissionStartsAt < opensAt) {
    throw admissionBeforeOpening();
  }
}

/**
 * The times the room's scripts act on, in ms of the store's clock (-1 = none). `shuffleAtMs` is
 * set only for RANDOM_AT_START rooms with a start: joins before it wait unranked in the
 * pre-queue, which is put in random order at that instant.
 */
export interface RoomSchedule {
  opensAtMs: number;
  admissionStartsAtMs: number;
  shuffleAtMs: number;
}

export function roomSchedule(settings: RoomSettings): RoomSchedule {
  const start = settings.admissionStartsAt?.getTime() ?? -1;
  return {
    opensAtMs: settings.opensAt?.getTime() ?? -1,
    admissionStartsAtMs: start,
    shuffleAtMs: settings.order === 'RANDOM_AT_START' ? start : -1,
  };
}

/** Live figures of a room for operators. */
export interface RoomStats {
  waiting: number;
  active: number;
  admittedLastMinute: number;
}
