import { Global, Module } from '@nestjs/common';
import { eventsConfig, EventsConfig } from '../config/configuration';
import { TransactionHost } from '../database/transaction';
import { EventOutbox } from './event-outbox';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxPurgeScheduler } from './outbox-purge.scheduler';
import { OutboxRelay } from './outbox-relay';
import { OutboxStore } from './outbox.store';
import { DisabledEventOutbox, TransactionalEventOutbox } from './transactional-event-outbox';

/**
 * The transactional outbox (docs/events.md): use cases inject EventOutbox; the relay and the
 * purge run on their own. Global, like the database, because every writing module records events.
 */
@Global()
@Module({
  providers: [
    OutboxStore,
    OutboxMetrics,
    OutboxRelay,
    OutboxPurgeScheduler,
    {
      provide: EventOutbox,
      inject: [eventsConfig.KEY, OutboxStore, TransactionHost],
      useFactory: (config: EventsConfig, store: OutboxStore, txHost: TransactionHost) =>
        config.outbox === 'on'
          ? new TransactionalEventOutbox(store, txHost)
          : new DisabledEventOutbox(),
    },
  ],
  exports: [EventOutbox],
})
export class OutboxModule {}
