import { ADMISSION_WINDOW_SECONDS, MAX_POLL_AFTER_SECONDS } from '../queue.constants';
import { AdmissionSnapshot, QueueEntry, QueueTicket } from './queue-entry';
import { RoomLimits } from './waiting-room';

/** A room's limits plus its start, which is all the arithmetic needs. */
export type AdmissionLimits = RoomLimits & { admissionStartsAt?: Date | null };

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * The admission arithmetic the clients see: how fast the line moves, how long a position waits
 * and how often to poll. The admission itself (who gets in) happens atomically in Redis; see
 * the admit script in infrastructure/queue.scripts.ts.
 */
export class AdmissionPolicy {
  constructor(
    private readonly limits: AdmissionLimits,
    private readonly windowSeconds = ADMISSION_WINDOW_SECONDS,
  ) {}

  /**
   * Admissions per second actually achieved, measured from the oldest admission still in the
   * window (at least 1 s), so a queue that opened seconds ago is not diluted over the whole
   * window. Null when nobody was admitted in the window.
   */
  measuredRate(snapshot: AdmissionSnapshot): number | null {
    if (snapshot.admittedInWindow === 0 || snapshot.oldestAdmissionMs === null) return null;
    const spanSeconds = clamp(
      (snapshot.nowMs - snapshot.oldestAdmissionMs) / 1000,
      1,
      this.windowSeconds,
    );
    return snapshot.admittedInWindow / spanSeconds;
  }

  /**
   * The slowest the line can move while backlogged: every ACTIVE token leaves within its TTL,
   * so at least maxActive slots free up per TTL (payments free them sooner).
   */
  turnoverFloor(): number {
    const { maxActiveUsers, admitPerSecond, activeTtlSeconds } = this.limits;
    return Math.min(admitPerSecond, maxActiveUsers / activeTtlSeconds);
  }

  /**
   * Seconds until the user at `position` should be ACTIVE. The first `free` waiting users only
   * wait for the per-second cap; the rest wait for slots to free up, at the rate admissions
   * were actually achieved (bounded below by the TTL turnover and above by the cap).
   */
  estimateWaitSeconds(position: number, snapshot: AdmissionSnapshot): number {
    const { maxActiveUsers, admitPerSecond } = this.limits;
    const free = Math.max(0, maxActiveUsers - snapshot.activeCount);
    if (position <= free) return Math.ceil(position / admitPerSecond);
    const floor = this.turnoverFloor();
    const turnover = clamp(this.measuredRate(snapshot) ?? floor, floor, admitPerSecond);
    return Math.ceil(free / admitPerSecond) + Math.ceil((position - free) / turnover);
  }

  /**
   * When a WAITING client should poll again: about four polls over the remaining wait, every
   * second near the front, and never so late that the entry could be dropped as idle (at least
   * three hints fit in the room's waitingIdleSeconds, so one lost poll does not cost the place).
   * Before the start nothing moves, so the hint is the time left until it. Summed over a line of
   * N, following the hints costs about 4 × rate × ln N polls a second for the moving front plus
   * N / longest for the back: the crowd's size barely enters below the longest hint.
   */
  pollAfterSeconds(estimatedWaitSeconds: number, secondsUntilStart = 0): number {
    const longest = clamp(
      Math.floor(this.limits.waitingIdleSeconds / 3),
      1,
      MAX_POLL_AFTER_SECONDS,
    );
    if (secondsUntilStart > 0) return clamp(secondsUntilStart, 1, longest);
    if (estimatedWaitSeconds <= 2) return 1;
    return clamp(Math.ceil(estimatedWaitSeconds / 4), 1, longest);
  }

  /** Whole seconds from the snapshot's clock to the room's admission start (0 once passed). */
  secondsUntilStart(nowMs: number): number {
    const start = this.limits.admissionStartsAt?.getTime();
    return start === undefined ? 0 : Math.max(0, Math.ceil((start - nowMs) / 1000));
  }

  ticketFor(entry: QueueEntry): QueueTicket {
    const admissionStartsAt = this.limits.admissionStartsAt ?? null;
    if (entry.status === 'ACTIVE') {
      const secondsLeft = (entry.activeUntil.getTime() - entry.nowMs) / 1000;
      return {
        token: entry.token,
        userId: entry.userId,
        concertId: entry.concertId,
        status: 'ACTIVE',
        position: 0,
        estimatedWaitSeconds: 0,
        activeUntil: entry.activeUntil,
        // Nothing to wait for; an occasional look shows the token is still ACTIVE.
        pollAfterSeconds: clamp(Math.floor(secondsLeft / 2), 1, MAX_POLL_AFTER_SECONDS),
        admissionStartsAt,
      };
    }
    const untilStart = this.secondsUntilStart(entry.admission.nowMs);
    // Unranked in a pre-queue: the expected place of a uniformly random order.
    const place = entry.position ?? Math.ceil((entry.admission.preQueueSize + 1) / 2);
    const estimatedWaitSeconds = untilStart + this.estimateWaitSeconds(place, entry.admission);
    return {
      token: entry.token,
      userId: entry.userId,
      concertId: entry.concertId,
      status: 'WAITING',
      position: entry.position,
      estimatedWaitSeconds,
      activeUntil: null,
      pollAfterSeconds: this.pollAfterSeconds(estimatedWaitSeconds, untilStart),
      admissionStartsAt,
    };
  }
}
