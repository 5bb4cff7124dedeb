import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../config/configuration';
import { SingleFlightJob } from '../jobs/single-flight-job';
import {
  IDEMPOTENCY_PURGE_BATCH,
  IDEMPOTENCY_PURGE_INTERVAL_MS,
  IDEMPOTENCY_PURGE_MAX_BATCHES,
  IDEMPOTENCY_PURGE_RUN_DEADLINE_MS,
} from './idempotency.constants';
import { IdempotencyService } from './idempotency.service';

/**
 * Deletes expired keys so the table stays the size of one retention window. No claim across
 * instances: harmless on every instance at once (each DELETE just finds fewer rows). A lookup
 * ignores expired rows anyway, so purging late never revives or blocks a key.
 */
@Injectable()
export class IdempotencyPurgeScheduler {
  private readonly job = new SingleFlightJob(
    {
      name: 'idempotency-purge',
      maxBatchesPerRun: IDEMPOTENCY_PURGE_MAX_BATCHES,
      deadlineMs: IDEMPOTENCY_PURGE_RUN_DEADLINE_MS,
      logger: new Logger(IdempotencyPurgeScheduler.name),
    },
    async () => {
      const deleted = await this.idempotency.purgeExpired(IDEMPOTENCY_PURGE_BATCH);
      return { processed: deleted, more: deleted === IDEMPOTENCY_PURGE_BATCH };
    },
  );

  constructor(
    private readonly idempotency: IdempotencyService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  @Interval(IDEMPOTENCY_PURGE_INTERVAL_MS)
  async onInterval(): Promise<void> {
    if (this.config.jobsEnabled) await this.purge();
  }

  /** One bounded run; returns how many rows were deleted. Never throws. */
  async purge(): Promise<number> {
    return (await this.job.run()).processed;
  }
}
