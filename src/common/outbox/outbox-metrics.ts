import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { OutboxBacklog, OutboxStore } from './outbox.store';

// Two gauges come from one query; a scrape reads both within milliseconds.
const BACKLOG_READ_REUSE_MS = 1_000;

/** The outbox's series on the app's registry (see docs/events.md, "Operating the relay"). */
@Injectable()
export class OutboxMetrics {
  private readonly published: Counter<'type'>;
  private readonly failures: Counter;
  private readonly connected: Gauge;
  private lastRead?: { at: number; backlog: Promise<OutboxBacklog> };

  constructor(metrics: MetricsService, store: OutboxStore) {
    const registers = [metrics.registry];
    this.published = new Counter({
      name: 'outbox_events_published_total',
      help: 'Events the broker confirmed, by type (at least once: a retried burst counts again)',
      labelNames: ['type'] as const,
      registers,
    });
    this.failures = new Counter({
      name: 'outbox_publish_failures_total',
      help: 'Relay rounds that failed (broker unreachable, a nack, no confirm in time, database)',
      registers,
    });
    this.connected = new Gauge({
      name: 'outbox_relay_connected',
      help: '1 while this instance has a confirm channel to the broker (relaying instances only)',
      registers,
    });
    // At scrape time, on every instance: the backlog is the database's, whoever relays it.
    const read = () => {
      const now = Date.now();
      if (!this.lastRead || now - this.lastRead.at > BACKLOG_READ_REUSE_MS) {
        this.lastRead = { at: now, backlog: store.backlog() };
      }
      return this.lastRead.backlog;
    };
    new Gauge({
      name: 'outbox_backlog_events',
      help: 'Events committed but not yet confirmed by the broker',
      registers,
      async collect() {
        this.set(await read().then((b) => b.unsent, failedRead));
      },
    });
    new Gauge({
      name: 'outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest event not yet confirmed by the broker (0 when none waits)',
      registers,
      async collect() {
        this.set(await read().then((b) => b.oldestAgeSeconds, failedRead));
      },
    });
  }

  countPublished(type: string, count: number): void {
    this.published.labels(type).inc(count);
  }

  countFailure(): void {
    this.failures.inc();
  }

  setConnected(connected: boolean): void {
    this.connected.set(connected ? 1 : 0);
  }
}

// A database outage must not break the whole scrape; the gauge reads NaN meanwhile.
function failedRead(): number {
  return Number.NaN;
}
