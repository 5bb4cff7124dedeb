interface Waiter<K, V> {
  key: K;
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
    const answer = new Promise<V | undefined>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
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
    return answer;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.loadMany([...new Set(batch.map((waiter) => waiter.key))]).then(
      (found) => batch.forEach((waiter) => waiter.resolve(found.get(waiter.key))),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    );
  }
}
