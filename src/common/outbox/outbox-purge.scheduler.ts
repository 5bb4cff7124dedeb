import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appConfig, AppConfig, eventsConfig, EventsConfig } from '../config/configuration';
import { TransactionHost } from '../database/transaction';
import { OUTBOX_PURGE_BATCH, OUTBOX_PURGE_INTERVAL_MS } from './outbox.constants';
import { OutboxStore } from './outbox.store';

/**
 * Keeps the outbox the size of its retention window (EVENTS_RETENTION_HOURS): sent events past it
 * are deleted, and, where no broker is configured, unsent ones too, since nothing here will ever
 * send them (contract, "Booking events"). Harmless on every instance at once.
 */
@Injectable()
export class OutboxPurgeScheduler {
  private readonly logger = new Logger(OutboxPurgeScheduler.name);

  constructor(
    private readonly store: OutboxStore,
    private readonly txHost: TransactionHost,
    @Inject(eventsConfig.KEY) private readonly config: EventsConfig,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  @Interval(OUTBOX_PURGE_INTERVAL_MS)
  async onInterval(): Promise<void> {
    if (!this.app.jobsEnabled) return;
    try {
      await this.purge();
    } catch (error) {
      this.logger.warn(`Outbox purge failed, will retry: ${String(error)}`);
    }
  }

  /** Returns how many events were deleted. */
  async purge(): Promise<number> {
    const includeUnsent = !this.config.amqpUrl;
    let total = 0;
    for (;;) {
      // READ COMMITTED: the range delete takes no gap locks, so it never holds up the inserts of
      // the changes being committed meanwhile.
      const deleted = await this.txHost.withTransaction(
        () =>
          this.store.purgeOlderThan(this.config.retentionHours, includeUnsent, OUTBOX_PURGE_BATCH),
        { isolation: 'READ COMMITTED' },
      );
      total += deleted;
      if (deleted < OUTBOX_PURGE_BATCH) return total;
    }
  }
}
