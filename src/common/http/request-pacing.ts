import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * CPU time one event-loop iteration spends starting queued requests before it yields to I/O.
 * Small on purpose: the listening socket is read once per iteration, so this is what a new
 * connection waits behind (see pacedRequestListener).
 */
export const PACING_BUDGET_MS = 1;

/**
 * Fair accept under connection floods. libuv (1.45 and later, libuv PR #3696) accepts one
 * connection per event-loop iteration. Without pacing, one iteration starts every request that
 * arrived on the connections already open, so with hundreds of busy connections an iteration
 * takes tens to hundreds of milliseconds and a burst of new connections waits seconds in the
 * kernel's accept queue, where the overload guard cannot see or shed them.
 *
 * Here a request is queued when it arrives and started from a setImmediate callback, at most
 * `budgetMs` of work per iteration; the rest waits for the next one, which begins by polling I/O
 * and so accepts the next connection. The total work is the same; it is cut into short
 * iterations, so new connections are accepted at hundreds per second while the instance is
 * saturated, and their requests reach the guard, which answers them (200 or 503 + Retry-After)
 * instead of leaving them unaccepted. Order is first come, first served.
 */
export function pacedRequestListener(
  listener: RequestListener,
  budgetMs = PACING_BUDGET_MS,
): RequestListener {
  const queue: Array<[IncomingMessage, ServerResponse] | undefined> = [];
  let head = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // An immediate queued from inside an immediate runs in the next iteration, after its poll.
    setImmediate(drain);
  };

  const drain = () => {
    scheduled = false;
    const until = performance.now() + budgetMs;
    try {
      while (head < queue.length) {
        const entry = queue[head];
        queue[head++] = undefined;
        if (entry === undefined) continue;
        const [request, response] = entry;
        // The client left while its request waited: nothing to answer.
        if (!request.destroyed) listener(request, response);
        if (performance.now() >= until) break;
      }
    } finally {
      if (head >= queue.length) {
        queue.length = 0;
        head = 0;
      } else {
        // Under sustained load the queue never empties: drop the consumed prefix now and then.
        if (head >= 1024 && head * 2 >= queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        schedule();
      }
    }
  };

  return (request, response) => {
    queue.push([request, response]);
    schedule();
  };
}
