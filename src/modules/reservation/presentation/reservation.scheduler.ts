import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../../../common/config/configuration';
import { JobLogger, SingleFlightJob } from '../../../common/jobs/single-flight-job';
import { ReservationFacade } from '../application/reservation.facade';
import {
  RELEASE_INTERVAL_MS,
  RELEASE_MAX_BATCHES_PER_RUN,
  RELEASE_RUN_DEADLINE_MS,
} from '../reservation.constants';

/**
 * The hold release job's runs: up to RELEASE_MAX_BATCHES_PER_RUN batches within
 * RELEASE_RUN_DEADLINE_MS. No claim across instances: every instance running it at the same
 * moment is harmless, since expiry is a conditional UPDATE, so each reservation is expired by
 * exactly one runner. The single flight only keeps a slow run from piling up behind itself in
 * this process.
 */
export function holdReleaseJob(
  reservations: ReservationFacade,
  logger: JobLogger = new Logger(ReservationScheduler.name),
): SingleFlightJob {
  return new SingleFlightJob(
    {
      name: 'reservation-release',
      maxBatchesPerRun: RELEASE_MAX_BATCHES_PER_RUN,
      deadlineMs: RELEASE_RUN_DEADLINE_MS,
      logger,
    },
    () => reservations.releaseExpiredHoldBatch(),
  );
}

/** The hold release job, on every instance where JOBS_ENABLED (tests call `tick()` themselves). */
@Injectable()
export class ReservationScheduler implements OnApplicationBootstrap {
  private readonly job: SingleFlightJob;

  constructor(
    reservations: ReservationFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    this.job = holdReleaseJob(reservations);
  }

  onApplicationBootstrap(): void {
    if (this.config.jobsEnabled) this.job.scheduleEvery(this.registry, RELEASE_INTERVAL_MS);
  }

  /** One run; returns how many holds it expired. Never throws: the next tick retries. */
  async tick(): Promise<number> {
    return (await this.job.run()).processed;
  }
}
