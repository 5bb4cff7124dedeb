import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { AuditFacade } from '../application/audit.facade';
import { PublishedAudit } from '../domain/audit-report';

/**
 * Exports the latest periodic audit on every instance, read from Redis at scrape time, so each
 * instance shows the same values however recently it ticked itself. Prometheus sees the same
 * series from every instance: aggregate with max() (deploy/prometheus/alerts.yml does).
 */
@Injectable()
export class AuditMetrics implements OnModuleInit {
  /** The read in progress: every audit gauge of one scrape shares one Redis round trip. */
  private reading?: Promise<PublishedAudit | null | undefined>;

  constructor(
    private readonly audits: AuditFacade,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const latest = () => this.latest();
    new Gauge({
      name: 'booking_invariant_violations',
      help: 'Rows breaking each booking invariant in the latest periodic audit (rules it did not finish are absent)',
      labelNames: ['rule'] as const,
      registers,
      async collect() {
        const audit = await latest();
        // Redis unreachable: the previous values stay, and the success timestamp goes stale.
        if (audit === undefined) return;
        this.reset();
        for (const finding of audit?.findings ?? []) this.labels(finding.rule).set(finding.count);
      },
    });
    this.gauge(
      'booking_audit_last_success_timestamp_seconds',
      'When (unix s, database clock) the latest audit that finished every rule was taken',
      (audit) => (audit.lastCompleteAt ? audit.lastCompleteAt.getTime() / 1000 : undefined),
    );
    this.gauge(
      'booking_audit_last_run_timestamp_seconds',
      'When (unix s) the latest periodic audit was taken, finished or not',
      (audit) => audit.checkedAt.getTime() / 1000,
    );
    this.gauge(
      'booking_audit_duration_seconds',
      'How long the latest periodic audit read',
      (audit) => audit.durationMs / 1000,
    );
    this.gauge(
      'booking_audit_unchecked_rules',
      'Rules the latest periodic audit did not finish within its time limit',
      (audit) => audit.unchecked.length,
    );
  }

  private gauge(
    name: string,
    help: string,
    value: (audit: PublishedAudit) => number | undefined,
  ): void {
    const latest = () => this.latest();
    new Gauge({
      name,
      help,
      registers: [this.metrics.registry],
      async collect() {
        const audit = await latest();
        if (audit === undefined) return;
        const current = audit ? value(audit) : undefined;
        if (current === undefined) this.reset();
        else this.set(current);
      },
    });
  }

  /** The latest audit; null when none was published, undefined when Redis could not say. */
  private latest(): Promise<PublishedAudit | null | undefined> {
    this.reading ??= this.audits
      .latestPublished()
      .catch(() => undefined)
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
