import { AdmissionPolicy } from './admission-policy';
import { AdmissionSnapshot } from './queue-entry';

const NOW = 1_763_770_000_000;
const limits = {
  maxActiveUsers: 1000,
  admitPerSecond: 100,
  activeTtlSeconds: 600,
  waitingIdleSeconds: 120,
};

function snapshot(overrides: Partial<AdmissionSnapshot> = {}): AdmissionSnapshot {
  return {
    nowMs: NOW,
    activeCount: 1000,
    admittedInWindow: 0,
    oldestAdmissionMs: null,
    preQueueSize: 0,
    ...overrides,
  };
}

describe('AdmissionPolicy', () => {
  const policy = new AdmissionPolicy(limits);

  describe('measuredRate', () => {
    it('should be null when nobody was admitted in the window', () => {
      expect(policy.measuredRate(snapshot())).toBeNull();
    });

    it('should divide admissions by the time since the oldest one in the window', () => {
      const rate = policy.measuredRate(
        snapshot({ admittedInWindow: 300, oldestAdmissionMs: NOW - 30_000 }),
      );
      expect(rate).toBe(10);
    });

    it('should count at least one second when the first admissions just happened', () => {
      const rate = policy.measuredRate(snapshot({ admittedInWindow: 50, oldestAdmissionMs: NOW }));
      expect(rate).toBe(50);
    });

    it('should never stretch the span past the window', () => {
      const rate = policy.measuredRate(
        snapshot({ admittedInWindow: 120, oldestAdmissionMs: NOW - 600_000 }),
      );
      expect(rate).toBe(2);
    });
  });

  describe('turnoverFloor', () => {
    it('should be maxActive per TTL when that is below the cap', () => {
      expect(policy.turnoverFloor()).toBeCloseTo(1000 / 600);
    });

    it('should never exceed the per-second cap', () => {
      const fast = new AdmissionPolicy({ ...limits, maxActiveUsers: 10_000, activeTtlSeconds: 10 });
      expect(fast.turnoverFloor()).toBe(100);
    });
  });

  describe('estimateWaitSeconds', () => {
    it('should wait only for the per-second cap while slots are free', () => {
      const free = snapshot({ activeCount: 0 });
      expect(policy.estimateWaitSeconds(1, free)).toBe(1);
      expect(policy.estimateWaitSeconds(100, free)).toBe(1);
      expect(policy.estimateWaitSeconds(101, free)).toBe(2);
      expect(policy.estimateWaitSeconds(1000, free)).toBe(10);
    });

    it('should use the measured rate once every slot is taken', () => {
      const full = snapshot({ admittedInWindow: 300, oldestAdmissionMs: NOW - 60_000 });
      // 5 admissions per second actually achieved.
      expect(policy.estimateWaitSeconds(1, full)).toBe(1);
      expect(policy.estimateWaitSeconds(50, full)).toBe(10);
      expect(policy.estimateWaitSeconds(3000, full)).toBe(600);
    });

    it('should add the free slots and the turnover phases', () => {
      const partly = snapshot({
        activeCount: 800,
        admittedInWindow: 600,
        oldestAdmissionMs: NOW - 60_000,
      });
      // 200 free slots at 100/s → 2 s, then 100 more at the measured 10/s → 10 s.
      expect(policy.estimateWaitSeconds(300, partly)).toBe(12);
    });

    it('should fall back to the TTL turnover when nothing was admitted lately', () => {
      // 1000 slots per 600 s: position 100 waits 60 s at most.
      expect(policy.estimateWaitSeconds(100, snapshot())).toBe(60);
    });

    it('should not promise more than the cap even after a burst', () => {
      const burst = snapshot({ admittedInWindow: 1000, oldestAdmissionMs: NOW - 2_000 });
      expect(policy.estimateWaitSeconds(500, burst)).toBe(5);
    });

    it('should grow with the position', () => {
      const full = snapshot({ admittedInWindow: 120, oldestAdmissionMs: NOW - 60_000 });
      const estimates = [1, 10, 100, 1000].map((p) => policy.estimateWaitSeconds(p, full));
      expect(estimates).toEqual([...estimates].sort((a, b) => a - b));
      expect(new Set(estimates).size).toBe(4);
    });
  });

  describe('pollAfterSeconds', () => {
    it('should ask for a poll every second near the front', () => {
      expect(policy.pollAfterSeconds(0)).toBe(1);
      expect(policy.pollAfterSeconds(2)).toBe(1);
    });

    it('should poll about four times over the remaining wait further back', () => {
      expect(policy.pollAfterSeconds(8)).toBe(2);
      expect(policy.pollAfterSeconds(40)).toBe(10);
    });

    it('should cap the hint so following it never gets the entry dropped', () => {
      expect(policy.pollAfterSeconds(100_000)).toBe(40);
      const relaxed = new AdmissionPolicy({ ...limits, waitingIdleSeconds: 600 });
      expect(relaxed.pollAfterSeconds(100_000)).toBe(60);
      const strict = new AdmissionPolicy({ ...limits, waitingIdleSeconds: 30 });
      expect(strict.pollAfterSeconds(100_000)).toBe(10);
      const tiny = new AdmissionPolicy({ ...limits, waitingIdleSeconds: 2 });
      expect(tiny.pollAfterSeconds(100_000)).toBe(1);
    });
  });

  describe('before the admission start', () => {
    const startsAt = new Date(NOW + 90_000);
    const waitingFor = new AdmissionPolicy({ ...limits, admissionStartsAt: startsAt });

    it('should hint a poll at the start, within the idle bound', () => {
      expect(waitingFor.pollAfterSeconds(500, 30)).toBe(30);
      expect(waitingFor.pollAfterSeconds(500, 90)).toBe(40);
      expect(waitingFor.pollAfterSeconds(500, 0)).toBe(40);
    });

    it('should estimate an unranked pre-queue entry at the middle of the pre-queue, after the start', () => {
      const ticket = waitingFor.ticketFor({
        status: 'WAITING',
        token: 't',
        userId: 'u',
        concertId: 3,
        position: null,
        admission: snapshot({ activeCount: 0, preQueueSize: 399 }),
      });
      // 90 s to the start, then place 200 of 399 at 100 per second.
      expect(ticket).toMatchObject({
        position: null,
        estimatedWaitSeconds: 92,
        pollAfterSeconds: 40,
        admissionStartsAt: startsAt,
      });
    });
  });

  describe('ticketFor', () => {
    it('should show an ACTIVE entry at position 0 with no wait and a hint within its lifetime', () => {
      const activeUntil = new Date(NOW + 600_000);
      expect(
        policy.ticketFor({
          status: 'ACTIVE',
          token: 't',
          userId: 'u',
          concertId: 7,
          activeUntil,
          nowMs: NOW,
        }),
      ).toEqual({
        token: 't',
        userId: 'u',
        concertId: 7,
        status: 'ACTIVE',
        position: 0,
        estimatedWaitSeconds: 0,
        activeUntil,
        pollAfterSeconds: 60,
        admissionStartsAt: null,
      });
      const almostOver = policy.ticketFor({
        status: 'ACTIVE',
        token: 't',
        userId: 'u',
        concertId: 7,
        activeUntil: new Date(NOW + 900),
        nowMs: NOW,
      });
      expect(almostOver.pollAfterSeconds).toBe(1);
    });

    it('should show a WAITING entry with its estimate and hint and no activeUntil', () => {
      const ticket = policy.ticketFor({
        status: 'WAITING',
        token: 't',
        userId: 'u',
        concertId: 3,
        position: 40,
        admission: snapshot({ admittedInWindow: 60, oldestAdmissionMs: NOW - 60_000 }),
      });
      expect(ticket).toEqual({
        token: 't',
        userId: 'u',
        concertId: 3,
        status: 'WAITING',
        position: 40,
        estimatedWaitSeconds: 24,
        activeUntil: null,
        pollAfterSeconds: 6,
        admissionStartsAt: null,
      });
    });
  });
});
