/** What the admission rate looked like when an entry was read (all times Redis time, ms). */
export interface AdmissionSnapshot {
  nowMs: number;
  /** Live ACTIVE tokens right now. */
  activeCount: number;
  /** Admissions during the measuring window that ends now. */
  admittedInWindow: number;
  /** Time of the oldest admission still inside the window, or null when there was none. */
  oldestAdmissionMs: number | null;
}

/** A live queue entry as stored in Redis. */
export type QueueEntry =
  | {
      status: 'WAITING';
      token: string;
      userId: string;
      concertId: number;
      position: number;
      admission: AdmissionSnapshot;
    }
  | { status: 'ACTIVE'; token: string; userId: string; concertId: number; activeUntil: Date };

/** The view a client gets of its entry, with the estimate and the poll hint filled in. */
export interface QueueTicket {
  token: string;
  userId: string;
  /**
   * The concert the token was issued for. Until per-concert rooms exist there is one queue and
   * one token per user, so a returning user keeps the concert of their first request.
   */
  concertId: number;
  status: 'WAITING' | 'ACTIVE';
  /** 1-based among WAITING users; 0 when ACTIVE. */
  position: number;
  estimatedWaitSeconds: number;
  activeUntil: Date | null;
  /** When a WAITING client should poll again; null when ACTIVE (nothing left to wait for). */
  pollAfterSeconds: number | null;
}

/** The request may go through to an [active token] endpoint on behalf of this user. */
export interface ActivePass {
  token: string;
  userId: string;
  /** The concert the token was issued for (the "Waiting rooms" issue compares it per request). */
  concertId: number;
}

/** What one admission run did. */
export interface AdmissionRun {
  expired: number;
  dropped: number;
  admitted: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
}
