import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Business counters; each module increments its own. Names follow Prometheus conventions. */
export const BUSINESS_COUNTERS = {
  queue_tokens_issued_total: 'Queue tokens newly issued',
  queue_admissions_total: 'Waiting users admitted to ACTIVE',
  queue_tokens_expired_total: 'ACTIVE tokens expired (TTL or payment)',
  queue_waiting_dropped_total: 'WAITING entries dropped for not polling',
  reservation_holds_total: 'Seat holds created',
  reservation_expirations_total: 'Holds released by the expiry job',
  reservation_cancellations_total: 'Holds cancelled by their owner',
  payments_total: 'Payments completed',
  payment_amount_krw_total: 'KRW paid',
  cash_charges_total: 'Cash charges applied',
  cash_charged_krw_total: 'KRW charged',
} as const;

/** Point-in-time values read at scrape time through a collector registered by the owning module. */
export const BUSINESS_GAUGES = {
  queue_waiting_users: 'Users currently WAITING in the queue',
  queue_active_users: 'Users currently ACTIVE',
} as const;

export type BusinessCounter = keyof typeof BUSINESS_COUNTERS;
export type BusinessGauge = keyof typeof BUSINESS_GAUGES;

/**
 * One Prometheus registry per application instance (not the global default registry, so several
 * apps can live in one test process). Modules record business events here; /metrics exposes it.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly counters = new Map<BusinessCounter, Counter>();
  private readonly gaugeCollectors = new Map<BusinessGauge, () => Promise<number> | number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const [name, help] of Object.entries(BUSINESS_COUNTERS)) {
      this.counters.set(
        name as BusinessCounter,
        new Counter({ name, help, registers: [this.registry] }),
      );
    }
    for (const [name, help] of Object.entries(BUSINESS_GAUGES)) {
      const collectors = this.gaugeCollectors;
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const read = collectors.get(name as BusinessGauge);
          // A failing dependency must not break the whole scrape; the gauge just goes stale.
          if (read) this.set(await Promise.resolve(read()).catch(() => Number.NaN));
        },
      });
    }
  }

  increment(counter: BusinessCounter, by = 1): void {
    this.counters.get(counter)?.inc(by);
  }

  setGaugeCollector(gauge: BusinessGauge, read: () => Promise<number> | number): void {
    this.gaugeCollectors.set(gauge, read);
  }
}
