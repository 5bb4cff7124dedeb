import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
  payment_refunds_total: 'Payments refunded',
  payment_refunded_krw_total: 'KRW refunded',
  cash_charges_total: 'Cash charges applied',
  cash_charged_krw_total: 'KRW charged',
} as const;

/** Point-in-time values read at scrape time through a collector registered by the owning module. */
export const BUSINESS_GAUGES = {
  queue_waiting_users: 'Users currently WAITING in the queue',
  queue_active_users: 'Users currently ACTIVE',
} as const;

/** Why a request was shed before reaching a handler (see src/common/http/overload-protection.ts). */
export const OVERLOAD_REASONS = ['in_flight', 'event_loop_delay'] as const;
export type OverloadReason = (typeof OVERLOAD_REASONS)[number];

export interface OverloadReaders {
  inFlight: () => number;
  eventLoopDelayMs: () => number;
}

// Latency buckets around the targets: queue calls p99 ≤ 30 ms, payments p99 ≤ 100 ms.
const HTTP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

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

  // HTTP metrics are labelled by route pattern (`/reservations/:id`), never by raw URL, so the
  // number of series stays bounded whatever clients send.
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status (its _count is the request rate)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly httpErrors = new Counter({
    name: 'http_errors_total',
    help: 'problem+json responses by stable error code and route pattern',
    labelNames: ['code', 'route'] as const,
    registers: [this.registry],
  });
  private readonly overloadRejections = new Counter({
    name: 'http_overload_rejections_total',
    help: 'Requests shed with 503 before reaching a handler, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private overloadRead: OverloadReaders = { inFlight: () => 0, eventLoopDelayMs: () => 0 };
  // Per waiting room: one series per concert with a live room (removed when the room empties),
  // so the label set stays as small as the number of concerts on sale.
  private readonly roomWaiting = new Gauge({
    name: 'queue_room_waiting_users',
    help: 'Users WAITING in a concert waiting room (line + pre-queue), as of the last admission run',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });
  private readonly roomActive = new Gauge({
    name: 'queue_room_active_users',
    help: 'ACTIVE users of a concert waiting room, as of the last admission run',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });
  private readonly roomAdmissions = new Counter({
    name: 'queue_room_admissions_total',
    help: 'Users admitted to ACTIVE per concert waiting room, by the instance that admitted them',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every reason exists from the start at 0, so "shed requests" reads 0 rather than "No data".
    for (const reason of OVERLOAD_REASONS) this.overloadRejections.labels(reason).inc(0);
    const inFlight: Gauge = new Gauge({
      name: 'http_requests_in_flight',
      help: 'Requests in progress on this instance',
      registers: [this.registry],
      collect: () => inFlight.set(this.overloadRead.inFlight()),
    });
    const loopDelay: Gauge = new Gauge({
      name: 'http_event_loop_delay_seconds',
      help: 'Event-loop delay (median of the last three timer ticks), as the overload guard sees it',
      registers: [this.registry],
      collect: () => loopDelay.set(this.overloadRead.eventLoopDelayMs() / 1000),
    });
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

  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.labels(method, route, String(status)).observe(seconds);
  }

  countErrorCode(code: string, route: string): void {
    this.httpErrors.labels(code, route).inc();
  }

  countOverloadRejection(reason: OverloadReason): void {
    this.overloadRejections.labels(reason).inc();
  }

  observeRoom(
    concertId: number,
    room: { waiting: number; active: number; admitted: number },
  ): void {
    const label = String(concertId);
    this.roomWaiting.labels(label).set(room.waiting);
    this.roomActive.labels(label).set(room.active);
    // inc(0) still creates the series, so a room's rate reads 0 rather than "no data".
    this.roomAdmissions.labels(label).inc(room.admitted);
  }

  forgetRoom(concertId: number): void {
    const label = String(concertId);
    this.roomWaiting.remove(label);
    this.roomActive.remove(label);
    this.roomAdmissions.remove(label);
  }

  /** Registered by the overload guard, which owns both signals. */
  setOverloadReaders(readers: OverloadReaders): void {
    this.overloadRead = readers;
  }
}
