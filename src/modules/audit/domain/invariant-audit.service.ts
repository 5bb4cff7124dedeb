import { Injectable } from '@nestjs/common';
import { auditIncomplete } from './audit.errors';
import { AuditReport, PublishedAudit } from './audit-report';
import { AuditResultStore } from './audit-result.store';
import { AUDIT_EXAMPLES_PER_RULE, AUDIT_RULES, AuditRule, RuleFinding } from './audit-rule';
import { AuditTimeLimitError, InvariantAuditRepository } from './invariant-audit.repository';

/**
 * Below this much time left a statement would be cancelled before it could read anything, so the
 * rule is reported unchecked without asking the database at all.
 */
const MIN_STATEMENT_MS = 50;

/** The invariant audit: runs every rule, judges the whole, and shares the periodic result. */
@Injectable()
export class InvariantAuditService {
  constructor(
    private readonly audits: InvariantAuditRepository,
    private readonly results: AuditResultStore,
  ) {}

  /**
   * Every rule, one after another, within `timeLimitMs` in total: each statement gets what is
   * left, so the whole audit never reads longer than the limit however large the tables are. A
   * rule that does not finish is reported unchecked, and the rules after it are still tried
   * with whatever time remains (none, usually). Call inside a read-only snapshot.
   */
  async check(timeLimitMs: number): Promise<AuditReport> {
    const started = performance.now();
    const now = await this.audits.databaseNow();
    const findings: RuleFinding[] = [];
    const unchecked: AuditRule[] = [];
    for (const rule of AUDIT_RULES) {
      const left = Math.floor(timeLimitMs - (performance.now() - started));
      if (left < MIN_STATEMENT_MS) {
        unchecked.push(rule);
        continue;
      }
      try {
        findings.push(
          await this.audits.findViolations(rule, now, {
            examples: AUDIT_EXAMPLES_PER_RULE,
            timeLimitMs: left,
          }),
        );
      } catch (error) {
        if (!(error instanceof AuditTimeLimitError)) throw error;
        unchecked.push(rule);
      }
    }
    return new AuditReport(now, findings, unchecked, Math.round(performance.now() - started));
  }

  /** The report if every rule was checked; otherwise a 503 naming the unchecked ones. */
  requireComplete(report: AuditReport, timeLimitMs: number): AuditReport {
    if (report.complete) return report;
    throw auditIncomplete(timeLimitMs, report.unchecked);
  }

  claimPeriod(intervalSeconds: number): Promise<boolean> {
    return this.results.claimPeriod(intervalSeconds);
  }

  publish(report: AuditReport): Promise<void> {
    return this.results.publish(report);
  }

  latest(): Promise<PublishedAudit | null> {
    return this.results.latest();
  }
}
