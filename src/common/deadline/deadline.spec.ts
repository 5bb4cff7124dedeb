import { setTimeout as sleep } from 'node:timers/promises';
import {
  currentDeadline,
  Deadline,
  DeadlineExceededError,
  isDeadlineExceeded,
  runDetached,
  runWithDeadline,
  withinDeadline,
} from './deadline';

describe('Deadline', () => {
  it('should be in force inside its run, across awaits, and nowhere else', async () => {
    const deadline = new Deadline(1_000);
    expect(currentDeadline()).toBeUndefined();
    await runWithDeadline(deadline, async () => {
      await sleep(1);
      expect(currentDeadline()).toBe(deadline);
      expect(runDetached(() => currentDeadline())).toBeUndefined();
    });
    expect(currentDeadline()).toBeUndefined();
  });

  it('should stop applying once detached (the request was answered in time)', () => {
    const deadline = new Deadline(1_000);
    runWithDeadline(deadline, () => {
      deadline.detach();
      expect(currentDeadline()).toBeUndefined();
    });
  });

  it('should count down on the monotonic clock', async () => {
    const deadline = new Deadline(50);
    expect(deadline.remainingMs()).toBeLessThanOrEqual(50);
    await sleep(60);
    expect(deadline.remainingMs()).toBeLessThanOrEqual(0);
  });

  it('should reject a call still pending when the deadline passes', async () => {
    const never = new Promise<never>(() => undefined);
    const started = Date.now();
    await expect(withinDeadline(never, new Deadline(30))).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('should pass results and errors through when the call is on time', async () => {
    const deadline = new Deadline(1_000);
    await expect(withinDeadline(Promise.resolve(7), deadline)).resolves.toBe(7);
    await expect(withinDeadline(Promise.reject(new Error('boom')), deadline)).rejects.toThrow(
      'boom',
    );
  });

  it('should be recognised as a dependency timeout by its code', () => {
    expect(isDeadlineExceeded(new DeadlineExceededError())).toBe(true);
    expect(isDeadlineExceeded({ code: 'DEADLINE_EXCEEDED' })).toBe(true);
    expect(isDeadlineExceeded(new Error('other'))).toBe(false);
  });
});
