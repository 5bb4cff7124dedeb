import { TransactionHost } from '../database/transaction';
import { BookingEvent } from './booking-event';
import { EventOutbox } from './event-outbox';
import { OutboxStore } from './outbox.store';

export class TransactionalEventOutbox extends EventOutbox {
  constructor(
    private readonly store: OutboxStore,
    private readonly txHost: TransactionHost,
  ) {
    super();
  }

  async record(...events: BookingEvent[]): Promise<void> {
    // Outside a transaction the event would commit on its own: sent for a change that may still
    // roll back, or kept when the change is lost. That is a bug in the caller, not a runtime case.
    if (!this.txHost.isTransactionActive()) {
      throw new Error('EventOutbox.record must run inside the transaction of the change');
    }
    await this.store.insert(events);
  }
}

/**
 * EVENTS_OUTBOX=off: nothing is written. Only for measuring what the outbox costs a payment
 * (bench/events.mjs); a deployment that turns it off has no events at all.
 */
export class DisabledEventOutbox extends EventOutbox {
  record(): Promise<void> {
    return Promise.resolve();
  }
}
