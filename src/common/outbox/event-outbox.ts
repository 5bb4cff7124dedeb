import { BookingEvent } from './booking-event';

/**
 * The transactional outbox, as use cases see it: `record` writes the events of a change in the
 * change's own transaction (the one TransactionHost carries), so they commit with it or not at
 * all. Publishing is the relay's business, after the commit.
 */
export abstract class EventOutbox {
  abstract record(...events: BookingEvent[]): Promise<void>;
}
