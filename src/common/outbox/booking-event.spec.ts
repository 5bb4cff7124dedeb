import { cloudEventJson, eventSubject, partitionOf, StoredEvent } from './booking-event';
import { OUTBOX_PARTITIONS } from './outbox.constants';

describe('cloudEventJson', () => {
  const event: StoredEvent = {
    seq: 41,
    id: '0b5f6e4e-3f0e-4d4c-9a57-1f0b8a3c2d10',
    type: 'payment.completed',
    subject: 'payment/7',
    time: new Date('2026-12-02T09:30:00.123Z'),
    data: '{"id":7,"userId":"u-1","amount":50000,"note":"한국어 \\"quoted\\""}',
  };

  it('should produce a CloudEvents 1.0 envelope with the stored data spliced in unchanged', () => {
    const json = cloudEventJson(event);
    expect(JSON.parse(json)).toEqual({
      specversion: '1.0',
      id: event.id,
      source: 'concert-booking',
      type: 'payment.completed',
      subject: 'payment/7',
      time: '2026-12-02T09:30:00.123Z',
      datacontenttype: 'application/json',
      data: { id: 7, userId: 'u-1', amount: 50000, note: '한국어 "quoted"' },
    });
    expect(json.endsWith(`,"data":${event.data}}`)).toBe(true);
  });
});

describe('partitionOf', () => {
  it('should put every event of one subject in the same partition, within range', () => {
    const subjects = [
      eventSubject.reservation(12),
      eventSubject.payment(7),
      eventSubject.user('2b1c9f5e-0000-4000-8000-000000000001'),
    ];
    for (const subject of subjects) {
      const partition = partitionOf(subject);
      expect(partition).toBe(partitionOf(subject));
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(OUTBOX_PARTITIONS);
    }
  });

  it('should spread many subjects over all partitions', () => {
    const used = new Set(
      Array.from({ length: 1000 }, (_, i) => partitionOf(eventSubject.reservation(i + 1))),
    );
    expect(used.size).toBe(OUTBOX_PARTITIONS);
  });
});
