import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appConfig, AppConfig, eventsConfig, EventsConfig } from '../config/configuration';
import { TransactionHost } from '../database/transaction';
import { SingleFlightJob } from '../jobs/single-flight-job';
import {
  OUTBOX_PURGE_BATCH,
  OUTBOX_PURGE_INTERVAL_MS,
  OUTBOX_PURGE_MAX_BATCHES,
  OUTBOX_PURGE_RUN_DEADLINE_MS,
} from './outbox.constants';
import { OutboxStore } from './outbox.store';

/**
 * Keeps the outbox the size of its retention window (EVENTS_RETENTION_HOURS): sent events past it
 * are deleted, and, where no broker is configured, unsent ones too, since nothing here will ever
 * send them (contract, "Booking events"). No claim across instances: harmless on every instance
 * at once (each DELETE just finds fewer rows).
 */
@Injectable()
export class OutboxPurgeScheduler {
  private readonly job = new SingleFlightJob(
    {
      name: 'outbox-purge',
      maxBatchesPerRun: OUTBOX_PURGE_MAX_BATCHES,
      deadlineMs: OUTBOX_PURGE_RUN_DEADLINE_MS,
      logger: new Logger(OutboxPurgeScheduler.name),
    },
    async () => {
      // READ COMMITTED: the range delete takes no gap locks, so it never holds up the inserts of
      // the changes being committed meanwhile.
      const deleted = await this.txHost.withTransaction(
        () =>
          this.store.purgeOlderThan(
            this.config.retentionHours,
            !this.config.amqpUrl,
            OUTBOX_PURGE_BATCH,
          ),
        { isolation: 'READ COMMITTED' },
      );
      return { processed: deleted, more: deleted === OUTBOX_PURGE_BATCH };
    },
  );

  constructor(
    private readonly store: OutboxStore,
    private readonly txHost: TransactionHost,
    @Inject(eventsConfig.KEY) private readonly config: EventsConfig,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  @Interval(OUTBOX_PURGE_INTERVAL_MS)
  async onInterval(): Promise<void> {
    if (this.app.jobsEnabled) await this.purge();
  }

  /** One bounded run; returns how many events were deleted. Never throws. */
  async purge(): Promise<number> {
    return (await this.job.run()).processed;
  }
}
