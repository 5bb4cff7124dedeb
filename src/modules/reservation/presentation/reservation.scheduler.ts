import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../../../common/config/configuration';
import { SingleFlightJob } from '../../../common/jobs/single-flight-job';
import { ReservationFacade } from '../application/reservation.facade';
import { RELEASE_INTERVAL_MS, RELEASE_RUN_DEADLINE_MS } from '../reservation.constants';

/**
 * The hold release job, on every instance where JOBS_ENABLED (tests call `tick()` themselves).
 * No claim across instances: every instance running it at the same moment is harmless, since
 * expiry is a conditional UPDATE, so each reservation is expired by exactly one runner. The
 * single flight only keeps a slow run from piling up behind itself in this process.
 */
@Injectable()
export class ReservationScheduler implements OnApplicationBootstrap {
  private readonly job = new SingleFlightJob(
    {
      name: 'reservation-release',
      // One step is the facade's whole pass, already bounded to RELEASE_MAX_BATCHES_PER_RUN
      // batches of RELEASE_BATCH_SIZE holds.
      maxBatchesPerRun: 1,
      deadlineMs: RELEASE_RUN_DEADLINE_MS,
      logger: new Logger(ReservationScheduler.name),
    },
    async () => ({ processed: await this.reservations.releaseExpiredHolds(), more: false }),
  );

  constructor(
    private readonly reservations: ReservationFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled) this.job.scheduleEvery(this.registry, RELEASE_INTERVAL_MS);
  }

  /** One run; returns how many holds it expired. Never throws: the next tick retries. */
  async tick(): Promise<number> {
    return (await this.job.run()).processed;
  }
}
