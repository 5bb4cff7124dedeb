import { Inject, Injectable } from '@nestjs/common';
import { auditConfig, AuditConfig } from '../../../common/config/configuration';
import { TransactionHost } from '../../../common/database/transaction';
import { currentDeadline } from '../../../common/deadline/deadline';
import { AuditReport, PublishedAudit } from '../domain/audit-report';
import { InvariantAuditService } from '../domain/invariant-audit.service';

/** What the on-demand audit leaves of the request's deadline for the answer. */
const ANSWER_RESERVE_MS = 500;

@Injectable()
export class AuditFacade {
  constructor(
    private readonly audits: InvariantAuditService,
    private readonly txHost: TransactionHost,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {}

  /** GET /admin/audit: every rule on one snapshot taken now; 503 if the time limit cut it short. */
  async audit(): Promise<AuditReport> {
    // Inside the request's deadline too (ADR 0013), with room left to answer: past it the
    // snapshot's connection would be cut and the unchecked rules could not be named.
    const left = currentDeadline()?.remainingMs();
    const limit =
      left === undefined
        ? this.config.timeLimitMs
        : Math.max(1, Math.min(this.config.timeLimitMs, Math.floor(left - ANSWER_RESERVE_MS)));
    const report = await this.txHost.withReadOnlySnapshot(() => this.audits.check(limit));
    return this.audits.requireComplete(report, limit);
  }

  /**
   * One tick of the periodic audit on one instance: the first instance to claim the period runs
   * the audit and publishes it, partial or not; every other tick of the period returns null.
   */
  async auditOncePerPeriod(): Promise<AuditReport | null> {
    const { intervalSeconds } = this.config;
    if (!(await this.audits.claimPeriod(intervalSeconds))) return null;
    // Never longer than a period, so the next period's run (maybe on another instance) does not
    // start while this one still reads.
    const limit = Math.min(this.config.timeLimitMs, intervalSeconds * 1000);
    const report = await this.txHost.withReadOnlySnapshot(() => this.audits.check(limit));
    await this.audits.publish(report);
    return report;
  }

  /** The latest periodic audit, whichever instance ran it. */
  latestPublished(): Promise<PublishedAudit | null> {
    return this.audits.latest();
  }
}
