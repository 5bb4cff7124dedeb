import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { pacedRequestListener, queueWaitMs } from './request-pacing';

function fakeRequest(destroyed = false): IncomingMessage {
  return { destroyed } as IncomingMessage;
}
const response = {} as ServerResponse;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('pacedRequestListener', () => {
  it('should start queued requests in arrival order from the next check phase, not synchronously', async () => {
    const started: number[] = [];
    const requests = [fakeRequest(), fakeRequest(), fakeRequest()];
    const listener = pacedRequestListener((request) => started.push(requests.indexOf(request)));

    for (const request of requests) listener(request, response);
    expect(started).toEqual([]);
    await nextIteration();
    expect(started).toEqual([0, 1, 2]);
  });

  it('should spread a backlog over several iterations when each request costs more than the target', async () => {
    const perIteration: number[] = [];
    let startedThisIteration = 0;
    const listener = pacedRequestListener(() => {
      startedThisIteration++;
      busy(1);
    }, 2);

    for (let i = 0; i < 200; i++) listener(fakeRequest(), response);
    while (perIteration.reduce((a, b) => a + b, 0) < 200) {
      await nextIteration();
      perIteration.push(startedThisIteration);
      startedThisIteration = 0;
    }
    // The first batch is a guess (16); after it each iteration starts about 2 ms of work.
    expect(perIteration.length).toBeGreaterThan(20);
    expect(Math.max(...perIteration.slice(2))).toBeLessThanOrEqual(4);
  });

  it('should skip a request whose client left while it waited', async () => {
    const started: IncomingMessage[] = [];
    const listener = pacedRequestListener((request) => started.push(request));
    const gone = fakeRequest(true);
    const live = fakeRequest();

    listener(gone, response);
    listener(live, response);
    await nextIteration();
    expect(started).toEqual([live]);
  });

  it('should count a long pause of the loop as a short wait when requests queue across it', async () => {
    let started = 0;
    const listener = pacedRequestListener(() => {
      started++;
      busy(2);
    }, 1);
    const requests = Array.from({ length: 40 }, () => fakeRequest());
    for (const request of requests) listener(request, response);
    await nextIteration();
    const firstBatch = started;
    // The loop stalls for 1.5 s (a GC pause, a frozen VM) with most requests still queued.
    busy(1_500);
    while (started < requests.length) await nextIteration();

    const waits = requests.slice(firstBatch).map((request) => queueWaitMs(request));
    expect(Math.min(...waits)).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThan(1_000);
  });
});
