import { Inject, Injectable } from '@nestjs/common';
import { auditConfig, AuditConfig } from '../../../common/config/configuration';
import { TransactionHost } from '../../../common/database/transaction';
import { AuditReport, PublishedAudit } from '../domain/audit-report';
import { InvariantAuditService } from '../domain/invariant-audit.service';

@Injectable()
export class AuditFacade {
  constructor(
    private readonly audits: InvariantAuditService,
    private readonly txHost: TransactionHost,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {}

  /** GET /admin/audit: every rule on one snapshot taken now; 503 if the time limit cut it short. */
  async audit(): Promise<AuditReport> {
    const limit = this.config.timeLimitMs;
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
