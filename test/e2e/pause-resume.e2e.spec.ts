import { setTimeout as sleep } from 'node:timers/promises';
import { BuiltServer, PRODUCTION_OVERLOAD_ENV, startBuiltServer } from '../support/built-server';

const PAUSE_MS = 12_000;

interface Answer {
  status: number;
  sentAt: number;
  answeredAt: number;
}

async function timedGet(url: string): Promise<Answer> {
  const sentAt = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  await response.arrayBuffer();
  return { status: response.status, sentAt, answeredAt: performance.now() };
}

function overloadRejections(metrics: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith('http_overload_rejections_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('a paused instance (e2e, built server)', () => {
  let server: BuiltServer | undefined;

  afterEach(async () => {
    await server?.kill();
  });

  it('should answer normally within 1 s of resuming after a 12 s SIGSTOP, without shedding', async () => {
    server = await startBuiltServer({ ...PRODUCTION_OVERLOAD_ENV, JOBS_ENABLED: 'true' });
    const concerts = `${server.url}/concerts`;
    for (let i = 0; i < 5; i++) expect((await timedGet(concerts)).status).toBe(200);

    server.child.kill('SIGSTOP');
    // Clients keep coming while the process is frozen: the kernel queues their connections.
    await sleep(200);
    const sentDuringPause = Array.from({ length: 20 }, () => timedGet(concerts));
    await sleep(PAUSE_MS - 200);
    server.child.kill('SIGCONT');
    const resumedAt = performance.now();

    // Then a steady trickle for the first second after resuming.
    const sentAfterResume: Promise<Answer>[] = [];
    while (performance.now() - resumedAt < 1_000) {
      sentAfterResume.push(...Array.from({ length: 4 }, () => timedGet(concerts)));
      await sleep(50);
    }

    const during = await Promise.all(sentDuringPause);
    const after = await Promise.all(sentAfterResume);
    for (const answer of [...during, ...after]) {
      expect(answer.status).toBe(200);
    }
    // Those queued during the pause are served promptly once it ends, and so is every later one.
    expect(Math.max(...during.map((a) => a.answeredAt - resumedAt))).toBeLessThan(1_000);
    expect(Math.max(...after.map((a) => a.answeredAt - a.sentAt))).toBeLessThan(1_000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(overloadRejections(metrics)).toBe(0);
  });
});
