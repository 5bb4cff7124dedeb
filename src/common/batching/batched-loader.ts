import {
  currentDeadline,
  Deadline,
  runDetached,
  runWithDeadline,
  withinDeadline,
} from '../deadline/deadline';

interface Waiter<K, V> {
  key: K;
  deadline: Deadline | undefined;
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces the loads made during one event-loop turn into one call of `loadMany` (at most
 * `maxBatch` distinct keys each). At on-sale time thousands of fans arrive at once, many of them
 * for the same few seats; one `IN (...)` query per batch keeps MySQL's pool from overflowing where
 * one query per request would. Nothing is cached: every caller's answer comes from a query sent
 * after its call, so a batched read is exactly as fresh as the caller's own would have been.
 */
export class BatchedLoader<K, V> {
  private pending: Waiter<K, V>[] = [];
  private scheduled = false;

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  /** The value for `key`, or undefined when `loadMany` found none. */
  load(key: K): Promise<V | undefined> {
    const deadline = currentDeadline();
    const answer = new Promise<V | undefined>((resolve, reject) => {
      this.pending.push({ key, deadline, resolve, reject });
    });
    if (this.pending.length >= this.maxBatch) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    // The batch may run under a later waiter's deadline than this caller's own.
    return deadline ? withinDeadline(answer, deadline) : answer;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const keys = [...new Set(batch.map((waiter) => waiter.key))];
    // The batch serves every waiter, so it runs under the latest of their deadlines (ADR 0013),
    // not under whichever request happened to schedule it.
    const deadline = latestDeadline(batch);
    const load = () => this.loadMany(keys);
    (deadline ? runWithDeadline(deadline, load) : runDetached(load)).then(
      (found) => batch.forEach((waiter) => waiter.resolve(found.get(waiter.key))),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    );
  }
}

/** The deadline with the most time left, or none when any waiter has none. */
function latestDeadline<K, V>(batch: readonly Waiter<K, V>[]): Deadline | undefined {
  let latest: Deadline | undefined;
  for (const { deadline } of batch) {
    if (!deadline) return undefined;
    if (!latest || deadline.remainingMs() > latest.remainingMs()) latest = deadline;
  }
  return latest;
}
