/**
 * Runs at most `limit` tasks at once; the others wait in arrival order. For CPU-heavy work that
 * Node hands to libuv's thread pool (argon2): left unbounded, a burst of it takes every pool
 * thread, so WebCrypto jobs (the bearer check) and DNS queue behind it, and takes every core, so
 * the event loop that answers status polls is starved.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
