import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The event-loop iteration the pacing aims for while requests queue. The listening socket is read
 * once per iteration, so this is about what a new connection waits behind: 2 ms is some 500
 * accepts a second on a saturated instance, for an overhead of a few percent (one more poll of
 * I/O per 2 ms of work).
 */
export const TARGET_ITERATION_MS = 2;
const MAX_BATCH = 256;
/**
 * One iteration counts for at most this much of a queued request's wait. A longer one is a pause
 * (GC, a frozen VM, SIGSTOP), not requests queueing behind each other; a saturated loop runs many
 * shorter iterations, and the event-loop lag catches one that runs long iteration after iteration.
 */
const MAX_ITERATION_COUNTED_MS = 250;

const waits = new WeakMap<IncomingMessage, number>();

/** How long this request waited in the pacing queue before it was started (0 if it did not). */
export function queueWaitMs(request: IncomingMessage): number {
  return waits.get(request) ?? 0;
}

/**
 * Fair accept under connection floods. libuv (1.45 and later, libuv PR #3696) accepts one
 * connection per event-loop iteration. Unpaced, one iteration serves every request that arrived on
 * the connections already open, so with hundreds of busy connections an iteration takes tens to
 * hundreds of milliseconds, and a burst of new connections waits seconds in the kernel's accept
 * queue, where the overload guard can neither see nor shed it.
 *
 * Here a request is queued when it arrives and started from a setImmediate callback, a batch per
 * iteration sized so that the whole iteration (the batch, the work its promises continue, the I/O
 * of earlier requests) stays near TARGET_ITERATION_MS; the rest waits for the next iteration,
 * which begins by polling I/O and so accepts the next connection. The work is the same, cut into
 * short iterations, so a saturated instance keeps accepting at hundreds of connections a second,
 * and their requests reach the guard, which answers them (200, or 503 with Retry-After). First
 * come, first served. Each request's wait in the queue is measured (queueWaitMs) so that the guard
 * can shed what has waited too long.
 */
export function pacedRequestListener(
  listener: RequestListener,
  targetMs = TARGET_ITERATION_MS,
): RequestListener {
  const queue: Array<[IncomingMessage, ServerResponse, number] | undefined> = [];
  let head = 0;
  let scheduled = false;
  let batch = 16;
  let lastDrainAt: number | undefined;
  // Time as the queue experiences it: iterations added up, each counted at most
  // MAX_ITERATION_COUNTED_MS, so a pause does not show as a long wait.
  let loopClock = 0;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // An immediate queued from inside an immediate runs in the next iteration, after its poll.
    setImmediate(drain);
  };

  const drain = () => {
    scheduled = false;
    const now = performance.now();
    if (lastDrainAt !== undefined) {
      const iterationMs = now - lastDrainAt;
      loopClock += Math.min(iterationMs, MAX_ITERATION_COUNTED_MS);
      batch =
        iterationMs > targetMs
          ? Math.max(1, Math.floor((batch * targetMs) / iterationMs))
          : Math.min(MAX_BATCH, batch + Math.max(1, batch >> 2));
    }
    let started = 0;
    try {
      while (head < queue.length && started < batch) {
        const entry = queue[head];
        queue[head++] = undefined;
        if (entry === undefined) continue;
        const [request, response, enqueuedAt] = entry;
        // The client left while its request waited: nothing to answer.
        if (request.destroyed) continue;
        started++;
        waits.set(request, loopClock - enqueuedAt);
        listener(request, response);
      }
    } finally {
      if (head >= queue.length) {
        queue.length = 0;
        head = 0;
        lastDrainAt = undefined;
      } else {
        // Under sustained load the queue never empties: drop the consumed prefix now and then.
        if (head >= 1024 && head * 2 >= queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        lastDrainAt = now;
        schedule();
      }
    }
  };

  return (request, response) => {
    queue.push([request, response, loopClock]);
    schedule();
  };
}
