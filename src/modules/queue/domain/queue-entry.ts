/** What the room looked like when an entry was read (all times Redis time, ms). */
export interface AdmissionSnapshot {
  nowMs: number;
  /** Live ACTIVE tokens right now. */
  activeCount: number;
  /** Admissions during the measuring window that ends now. */
  admittedInWindow: number;
  /** Time of the oldest admission still inside the window, or null when there was none. */
  oldestAdmissionMs: number | null;
  /** Users in the unranked pre-queue of a RANDOM_AT_START room that has not started. */
  preQueueSize: number;
}

/** A live queue entry as stored in Redis. */
export type QueueEntry =
  | {
      status: 'WAITING';
      token: string;
      userId: string;
      concertId: number;
      /** 1-based place in line; null while unranked in a pre-queue. */
      position: number | null;
      admission: AdmissionSnapshot;
    }
  | {
      status: 'ACTIVE';
      token: string;
      userId: string;
      concertId: number;
      activeUntil: Date;
      nowMs: number;
    };

/** The view a client gets of its entry, with the estimate and the poll hint filled in. */
export interface QueueTicket {
  token: string;
  userId: string;
  /** The concert whose waiting room the token belongs to. */
  concertId: number;
  status: 'WAITING' | 'ACTIVE';
  /** 1-based among WAITING users; 0 when ACTIVE; null before a RANDOM_AT_START room's start. */
  position: number | null;
  estimatedWaitSeconds: number;
  activeUntil: Date | null;
  /** When the client should ask again (1..60 s). */
  pollAfterSeconds: number;
  /** The room's admission start, or null when it has none. */
  admissionStartsAt: Date | null;
}

/** The request may go through to an [active token] endpoint of `concertId` for this user. */
export interface ActivePass {
  token: string;
  userId: string;
  concertId: number;
}

/** What one admission run did, summed over the rooms it visited. */
export interface AdmissionRun {
  expired: number;
  dropped: number;
  admitted: number;
  /** Rooms whose pre-queue this run shuffled (each room's start happens once, on one run). */
  started: number;
}

/** What one room's admission step did and how the room stands afterwards. */
export interface RoomTick {
  concertId: number;
  expired: number;
  dropped: number;
  admitted: number;
  started: boolean;
  waiting: number;
  active: number;
  admittedLastMinute: number;
  nowMs: number;
}
