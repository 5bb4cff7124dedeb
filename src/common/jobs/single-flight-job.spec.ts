import { currentDeadline } from '../deadline/deadline';
import { JobBatchOutcome, NOT_CLAIMED, SingleFlightJob } from './single-flight-job';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

function jobOf(
  batch: () => Promise<JobBatchOutcome>,
  options: Partial<{ maxBatchesPerRun: number; deadlineMs: number }> = {},
) {
  const warnings: string[] = [];
  const job = new SingleFlightJob(
    {
      name: 'test-job',
      maxBatchesPerRun: options.maxBatchesPerRun ?? 10,
      deadlineMs: options.deadlineMs ?? 60_000,
      logger: { warn: (message) => warnings.push(message) },
    },
    batch,
  );
  return { job, warnings };
}

describe('SingleFlightJob', () => {
  it('should answer busy and run no batch when a run is still going in this process', async () => {
    const gate = deferred();
    let calls = 0;
    const { job } = jobOf(async () => {
      calls++;
      await gate.promise;
      return { processed: 3, more: false };
    });

    const first = job.run();
    const overlapping = await Promise.all([job.run(), job.run()]);
    gate.resolve();

    expect(overlapping.map((run) => run.status)).toEqual(['busy', 'busy']);
    await expect(first).resolves.toEqual({ status: 'ran', batches: 1, processed: 3 });
    expect(calls).toBe(1);
  });

  it('should run again once the previous run has finished', async () => {
    let calls = 0;
    const { job } = jobOf(() => Promise.resolve({ processed: ++calls, more: false }));

    await job.run();
    await expect(job.run()).resolves.toEqual({ status: 'ran', batches: 1, processed: 2 });
  });

  it('should stop after maxBatchesPerRun when every batch says there is more', async () => {
    let calls = 0;
    const { job } = jobOf(
      () => {
        calls++;
        return Promise.resolve({ processed: 100, more: true });
      },
      { maxBatchesPerRun: 4 },
    );

    await expect(job.run()).resolves.toEqual({ status: 'ran', batches: 4, processed: 400 });
    expect(calls).toBe(4);
  });

  it('should stop at the first batch that leaves nothing behind', async () => {
    const sizes = [100, 100, 40, 100];
    const { job } = jobOf(() => {
      const processed = sizes.shift() ?? 0;
      return Promise.resolve({ processed, more: processed === 100 });
    });

    await expect(job.run()).resolves.toEqual({ status: 'ran', batches: 3, processed: 240 });
    expect(sizes).toEqual([100]);
  });

  it('should start no further batch once the run deadline has passed', async () => {
    let calls = 0;
    const { job } = jobOf(
      async () => {
        calls++;
        // Each batch outlasts the whole run's budget by 5×, so a second one would be a bound bug.
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { processed: 1, more: true };
      },
      { deadlineMs: 10 },
    );

    await expect(job.run()).resolves.toEqual({ status: 'ran', batches: 1, processed: 1 });
    expect(calls).toBe(1);
  });

  it('should run every batch under the run deadline', async () => {
    const budgets: (number | undefined)[] = [];
    const { job } = jobOf(
      () => {
        budgets.push(currentDeadline()?.budgetMs);
        return Promise.resolve({ processed: 0, more: false });
      },
      { deadlineMs: 1234 },
    );

    await job.run();
    expect(budgets).toEqual([1234]);
  });

  it('should log and answer failed, not throw, when a batch throws, and run again next time', async () => {
    let fail = true;
    const { job, warnings } = jobOf(() => {
      if (fail) return Promise.reject(new Error('redis went away'));
      return Promise.resolve({ processed: 1, more: false });
    });

    await expect(job.run()).resolves.toEqual({ status: 'failed', batches: 0, processed: 0 });
    expect(warnings).toEqual(['test-job run failed: redis went away']);

    fail = false;
    await expect(job.run()).resolves.toEqual({ status: 'ran', batches: 1, processed: 1 });
  });

  it('should keep what earlier batches did when a later one throws', async () => {
    let calls = 0;
    const { job } = jobOf(() =>
      ++calls < 3
        ? Promise.resolve({ processed: 10, more: true })
        : Promise.reject(new Error('deadlock')),
    );

    await expect(job.run()).resolves.toEqual({ status: 'failed', batches: 2, processed: 20 });
  });

  it('should answer not-claimed and stop when another instance has the run', async () => {
    let calls = 0;
    const { job } = jobOf(() => {
      calls++;
      return Promise.resolve(NOT_CLAIMED);
    });

    await expect(job.run()).resolves.toEqual({ status: 'not-claimed', batches: 0, processed: 0 });
    expect(calls).toBe(1);
  });
});
