import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/**
 * The point in time by which a unit of work (one HTTP request, one job run) must be done. Every
 * MySQL and Redis call made on its behalf waits at most what is left of it (ADR 0013).
 */
export class Deadline {
  private readonly expiresAt: number;
  private detached = false;

  constructor(readonly budgetMs: number) {
    // The monotonic clock: a wall-clock step (NTP) must not stretch or cut a deadline.
    this.expiresAt = performance.now() + budgetMs;
  }

  /** Milliseconds left; 0 or less once it has passed. */
  remainingMs(): number {
    return this.expiresAt - performance.now();
  }

  /**
   * The request was answered normally: whatever is still running on its behalf (a Redis
   * subscriber opened during it, a batch it started) no longer works toward that answer and
   * must not inherit a deadline that has nothing left to protect.
   */
  detach(): void {
    this.detached = true;
  }

  get isDetached(): boolean {
    return this.detached;
  }
}

/**
 * The deadline of the work this call belongs to. Not a Nest provider: the database and Redis
 * adapters, the HTTP hook and the jobs all reach the same store, and there is one per process
 * because the store is keyed by async context, not by app.
 */
const store = new AsyncLocalStorage<Deadline>();

/** The deadline in force here, or undefined outside any request or bounded job. */
export function currentDeadline(): Deadline | undefined {
  const deadline = store.getStore();
  return deadline && !deadline.isDetached ? deadline : undefined;
}

/** Runs `work` (and everything it starts) under `deadline`, e.g. one job run. */
export function runWithDeadline<T>(deadline: Deadline, work: () => T): T {
  return store.run(deadline, work);
}

/**
 * Runs `work` outside any deadline, for long-lived resources created lazily during a request
 * (a subscriber connection): their callbacks would otherwise run in that request's context.
 */
export function runDetached<T>(work: () => T): T {
  return store.exit(work);
}

export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

/** The work ran out of time; answered 503 SERVICE_UNAVAILABLE with Retry-After. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  readonly code = DEADLINE_EXCEEDED;

  constructor(what = 'The request') {
    super(`${what} did not finish within its deadline`);
  }
}

export function isDeadlineExceeded(error: unknown): boolean {
  // Duck-typed like the other dependency checks (errors may cross Jest's realms).
  return (error as { code?: unknown } | null)?.code === DEADLINE_EXCEEDED;
}

/**
 * Settles like `promise`, or rejects with DeadlineExceededError once `deadline` passes, whichever
 * comes first. The underlying call is not cancelled: use it for calls whose late completion is
 * harmless or stopped elsewhere.
 */
export function withinDeadline<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  const remaining = deadline.remainingMs();
  if (remaining <= 0) {
    promise.catch(() => undefined);
    return Promise.reject(new DeadlineExceededError());
  }
  return new Promise<T>((resolve, reject) => {
    // One poll phase of grace, so an answer that arrived while the whole process was paused is
    // read before the deadline is declared missed (the first settlement wins).
    const timer = setTimeout(
      () => setImmediate(() => reject(new DeadlineExceededError())),
      Math.ceil(remaining),
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
