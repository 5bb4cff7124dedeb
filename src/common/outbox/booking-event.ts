import { crc32 } from 'node:zlib';
import { OUTBOX_PARTITIONS } from './outbox.constants';

/** The event catalogue (docs/events.md): one type per kind of committed change. */
export const BOOKING_EVENT_TYPES = [
  'reservation.held',
  'reservation.cancelled',
  'reservation.expired',
  'payment.completed',
  'payment.refunded',
  'cash.charged',
] as const;

export type BookingEventType = (typeof BOOKING_EVENT_TYPES)[number];

/** What a use case records in its transaction; the outbox adds the id, the time and the source. */
export interface BookingEvent {
  type: BookingEventType;
  /** The aggregate the event is about; events of one subject are delivered in commit order. */
  subject: string;
  /** The resource as the API shows it, always with its owner. */
  data: { readonly userId: string };
}

export const eventSubject = {
  reservation: (id: number) => `reservation/${id}`,
  payment: (id: number) => `payment/${id}`,
  user: (id: string) => `user/${id}`,
};

export const EVENT_SOURCE = 'concert-booking';
export const EVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** An event as the outbox table holds it, ready to publish. */
export interface StoredEvent {
  /** The outbox row id: the order in which events of one subject were committed. */
  seq: number;
  id: string;
  type: string;
  subject: string;
  time: Date;
  /** `data` as JSON text, exactly as written in the change's transaction. */
  data: string;
}

/**
 * The relay partition of a subject. Every event of one subject lands in the same partition, and
 * a partition is relayed by one instance at a time: that is what keeps a subject's order across
 * instances. Fixed by the migration's partition rows; changing it needs a drained outbox.
 */
export function partitionOf(subject: string): number {
  return crc32(subject) % OUTBOX_PARTITIONS;
}

/**
 * The CloudEvents 1.0 structured-mode JSON of a stored event. `data` is spliced in as stored
 * rather than parsed and re-serialised: the relay's hot loop, and byte-for-byte what was written.
 */
export function cloudEventJson(event: StoredEvent): string {
  const head = JSON.stringify({
    specversion: '1.0',
    id: event.id,
    source: EVENT_SOURCE,
    type: event.type,
    subject: event.subject,
    time: event.time.toISOString(),
    datacontenttype: 'application/json',
  });
  return `${head.slice(0, -1)},"data":${event.data}}`;
}
