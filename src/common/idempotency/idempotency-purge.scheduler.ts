import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../config/configuration';
import { IDEMPOTENCY_PURGE_BATCH, IDEMPOTENCY_PURGE_INTERVAL_MS } from './idempotency.constants';
import { IdempotencyService } from './idempotency.service';

/**
 * Deletes expired keys so the table stays the size of one retention window. Harmless on every
 * instance at once (each DELETE just finds fewer rows). A lookup ignores expired rows anyway, so
 * purging late never revives or blocks a key.
 */
@Injectable()
export class IdempotencyPurgeScheduler {
  private readonly logger = new Logger(IdempotencyPurgeScheduler.name);

  constructor(
    private readonly idempotency: IdempotencyService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  @Interval(IDEMPOTENCY_PURGE_INTERVAL_MS)
  async onInterval(): Promise<void> {
    if (!this.config.jobsEnabled) return;
    try {
      await this.purge();
    } catch (error) {
      this.logger.warn(`Idempotency purge failed, will retry: ${String(error)}`);
    }
  }

  /** Returns how many rows were deleted. */
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.idempotency.purgeExpired(IDEMPOTENCY_PURGE_BATCH);
      total += deleted;
      if (deleted < IDEMPOTENCY_PURGE_BATCH) return total;
    }
  }
}
