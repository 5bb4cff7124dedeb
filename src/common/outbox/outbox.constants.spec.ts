import {
  redactUrl,
  RELAY_BACKOFF_BASE_MS,
  RELAY_BACKOFF_MAX_MS,
  relayBackoffMs,
} from './outbox.constants';

describe('relayBackoffMs', () => {
  it('should double from the base while failures go on, between half and all of the step', () => {
    for (const [failures, step] of [
      [1, RELAY_BACKOFF_BASE_MS],
      [2, RELAY_BACKOFF_BASE_MS * 2],
      [3, RELAY_BACKOFF_BASE_MS * 4],
    ]) {
      expect(relayBackoffMs(failures, () => 0)).toBe(step / 2);
      expect(relayBackoffMs(failures, () => 1)).toBe(step);
    }
  });

  it('should never wait longer than the cap however long the outage', () => {
    expect(relayBackoffMs(50, () => 1)).toBe(RELAY_BACKOFF_MAX_MS);
    expect(relayBackoffMs(10_000, () => 0.5)).toBeLessThanOrEqual(RELAY_BACKOFF_MAX_MS);
  });
});

describe('redactUrl', () => {
  it('should hide the password and keep what an operator needs to see', () => {
    const shown = redactUrl('amqp://relay:s3cr%40t@rabbitmq:5672/booking');
    expect(shown).toBe('amqp://relay:***@rabbitmq:5672/booking');
    expect(shown).not.toContain('s3cr');
  });

  it('should leave a URL without a password as it is', () => {
    expect(redactUrl('amqp://rabbitmq:5672')).toBe('amqp://rabbitmq:5672');
  });

  it('should never echo a URL it cannot parse', () => {
    expect(redactUrl('amqp://user:pw@[bad')).toBe('<unparseable AMQP URL>');
  });
});
