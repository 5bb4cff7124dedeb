interface Waiter<K> {
  key: K;
  resolve: (found: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces the lookups made during one event-loop turn into one call of `load` (at most
 * `maxBatch` keys each). At on-sale time thousands of newcomers ask for a token at once; one
 * `IN (...)` query per batch keeps MySQL's pool from overflowing where one query per user would.
 * Nothing is cached: every caller's answer comes from a query made after its call.
 */
export class BatchedLookup<K> {
  private pending: Waiter<K>[] = [];
  private scheduled = false;

  constructor(
    private readonly load: (keys: K[]) => Promise<Set<K>>,
    private readonly maxBatch = 500,
  ) {}

  has(key: K): Promise<boolean> {
    const answer = new Promise<boolean>((resolve, reject) => {
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
    this.load([...new Set(batch.map((waiter) => waiter.key))]).then(
      (found) => batch.forEach((waiter) => waiter.resolve(found.has(waiter.key))),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    );
  }
}
