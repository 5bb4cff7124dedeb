import { SchedulerRegistry } from '@nestjs/schedule';
import { Deadline, runWithDeadline } from '../deadline/deadline';

/** What one batch of a job did: rows (or entries) it handled, and whether more may be waiting. */
export interface JobBatch {
  processed: number;
  more: boolean;
}

/**
 * A batch answers NOT_CLAIMED when another instance holds this run's claim (a job that must act
 * once claims in Redis, as the audit's period claim does); the run then stops at once.
 */
export const NOT_CLAIMED = 'not-claimed';

export type JobBatchOutcome = JobBatch | typeof NOT_CLAIMED;

/**
 * - ran: the run did its batches (up to its bound and its deadline);
 * - busy: the previous run in this process has not finished, so this one did nothing;
 * - not-claimed: another instance has this run;
 * - failed: a batch threw (logged); the next run retries.
 */
export type JobRunStatus = 'ran' | 'busy' | 'not-claimed' | 'failed';

export interface JobRun {
  status: JobRunStatus;
  batches: number;
  processed: number;
}

export interface JobLogger {
  warn(message: string): void;
}

export interface SingleFlightJobOptions {
  /** Names the interval in the SchedulerRegistry and the log lines. */
  name: string;
  /** A run stops after this many batches even if there is more: the next run goes on. */
  maxBatchesPerRun: number;
  /** Every MySQL and Redis call of a run waits at most what is left of this (ADR 0013). */
  deadlineMs: number;
  logger: JobLogger;
}

/**
 * Runs a batch job at most once at a time in this process, in bounded runs: at most
 * `maxBatchesPerRun` batches and `deadlineMs` per run, so a backlog or a slow dependency can never
 * keep a run (and the timer behind it) going for ever. Errors are logged, never thrown: a job
 * tick has no caller to answer, and the next run retries. Exclusivity across instances is the
 * job's own business: either every batch is safe on every instance at once (conditional updates,
 * atomic scripts), or its first batch claims the run and answers NOT_CLAIMED.
 */
export class SingleFlightJob {
  private running = false;

  constructor(
    private readonly options: SingleFlightJobOptions,
    private readonly batch: () => Promise<JobBatchOutcome>,
  ) {}

  async run(): Promise<JobRun> {
    // A run still working when the next tick comes must not start a second one beside it.
    if (this.running) return { status: 'busy', batches: 0, processed: 0 };
    this.running = true;
    const deadline = new Deadline(this.options.deadlineMs);
    const run: JobRun = { status: 'ran', batches: 0, processed: 0 };
    try {
      await runWithDeadline(deadline, async () => {
        while (run.batches < this.options.maxBatchesPerRun && deadline.remainingMs() > 0) {
          const outcome = await this.batch();
          if (outcome === NOT_CLAIMED) {
            run.status = 'not-claimed';
            return;
          }
          run.batches++;
          run.processed += outcome.processed;
          if (!outcome.more) return;
        }
      });
    } catch (error) {
      this.options.logger.warn(
        `${this.options.name} run failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      run.status = 'failed';
    } finally {
      this.running = false;
    }
    return run;
  }

  /** Runs every `intervalMs`; ScheduleModule clears registered intervals on shutdown. */
  scheduleEvery(registry: SchedulerRegistry, intervalMs: number): void {
    registry.addInterval(
      this.options.name,
      setInterval(() => void this.run(), intervalMs),
    );
  }
}
