import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../../../common/config/configuration';
import { SingleFlightJob } from '../../../common/jobs/single-flight-job';
import { QueueFacade } from '../application/queue.facade';
import { ADMISSION_INTERVAL_MS } from '../queue.constants';

// A run is one admission pass over every room; a Redis stall ends it well before the runs it
// holds up (one every ADMISSION_INTERVAL_MS) become a backlog worth noticing.
const ADMISSION_RUN_DEADLINE_MS = 5_000;

/**
 * Runs admission on every instance where JOBS_ENABLED (tests drive `tick()` themselves). No claim
 * across instances: runs overlapping on several instances are harmless, each Redis step is one
 * atomic script. The single flight only keeps runs from piling up in this process while Redis
 * is slow.
 */
@Injectable()
export class QueueScheduler implements OnApplicationBootstrap {
  private readonly job = new SingleFlightJob(
    {
      name: 'queue-admission',
      maxBatchesPerRun: 1,
      deadlineMs: ADMISSION_RUN_DEADLINE_MS,
      logger: new Logger(QueueScheduler.name),
    },
    async () => ({ processed: (await this.queue.runAdmission()).admitted, more: false }),
  );

  constructor(
    private readonly queue: QueueFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled) this.job.scheduleEvery(this.registry, ADMISSION_INTERVAL_MS);
  }

  async tick(): Promise<void> {
    await this.job.run();
  }
}
