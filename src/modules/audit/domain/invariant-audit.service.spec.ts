import { DomainError } from '../../../common/errors/domain-error';
import { AuditReport, PublishedAudit } from './audit-report';
import { AuditResultStore } from './audit-result.store';
import { AUDIT_RULES, AuditRule, RuleFinding } from './audit-rule';
import {
  AuditTimeLimitError,
  InvariantAuditRepository,
  RuleQueryLimits,
} from './invariant-audit.repository';
import { InvariantAuditService } from './invariant-audit.service';

const NOW = new Date('2026-12-01T12:00:00.000Z');

/** A repository whose rules answer from a table, optionally slowly or by timing out. */
class FakeAudits extends InvariantAuditRepository {
  readonly asked: { rule: AuditRule; limits: RuleQueryLimits }[] = [];
  constructor(
    private readonly counts: Partial<Record<AuditRule, number>> = {},
    private readonly timesOut: AuditRule[] = [],
    private readonly takesMs = 0,
  ) {
    super();
  }

  databaseNow(): Promise<Date> {
    return Promise.resolve(NOW);
  }

  async findViolations(rule: AuditRule, now: Date, limits: RuleQueryLimits): Promise<RuleFinding> {
    this.asked.push({ rule, limits });
    if (this.takesMs > 0) await new Promise((resolve) => setTimeout(resolve, this.takesMs));
    if (this.timesOut.includes(rule)) throw new AuditTimeLimitError(rule);
    const count = this.counts[rule] ?? 0;
    return { rule, count, examples: count > 0 ? [1] : [] };
  }
}

class NoStore extends AuditResultStore {
  claimPeriod(): Promise<boolean> {
    return Promise.resolve(true);
  }
  publish(): Promise<void> {
    return Promise.resolve();
  }
  latest(): Promise<PublishedAudit | null> {
    return Promise.resolve(null);
  }
}

describe('InvariantAuditService', () => {
  it('should check every rule in order and be ok when none is broken', async () => {
    const audits = new FakeAudits();
    const report = await new InvariantAuditService(audits, new NoStore()).check(10_000);

    expect(audits.asked.map((call) => call.rule)).toEqual([...AUDIT_RULES]);
    expect(audits.asked.every((call) => call.limits.examples === 5)).toBe(true);
    expect(report).toMatchObject({ checkedAt: NOW, complete: true, ok: true, violations: [] });
  });

  it('should list only the broken rules as violations and not be ok when one is broken', async () => {
    const audits = new FakeAudits({ seat_held_past_hold_end: 3 });
    const report = await new InvariantAuditService(audits, new NoStore()).check(10_000);

    expect(report.ok).toBe(false);
    expect(report.violations).toEqual([
      { rule: 'seat_held_past_hold_end', count: 3, examples: [1] },
    ]);
  });

  it('should report a timed-out rule unchecked and go on with the rest when one times out', async () => {
    const audits = new FakeAudits({}, ['seat_with_two_live_reservations']);
    const report = await new InvariantAuditService(audits, new NoStore()).check(10_000);

    expect(report.unchecked).toEqual(['seat_with_two_live_reservations']);
    expect(report.findings).toHaveLength(AUDIT_RULES.length - 1);
    // Nothing is known about the unchecked rule, so the audit cannot vouch for the data.
    expect(report).toMatchObject({ complete: false, ok: false, violations: [] });
  });

  it('should give each statement only the time left and skip the rules past the limit', async () => {
    const audits = new FakeAudits({}, [], 60);
    const report = await new InvariantAuditService(audits, new NoStore()).check(150);

    const limits = audits.asked.map((call) => call.limits.timeLimitMs);
    expect(limits[0]).toBeLessThanOrEqual(150);
    expect(limits[1]).toBeLessThan(limits[0]);
    expect(report.unchecked.length).toBeGreaterThan(0);
    expect(report.findings.length + report.unchecked.length).toBe(AUDIT_RULES.length);
  });

  it('should answer 503 naming the unchecked rules when a report is incomplete', () => {
    const service = new InvariantAuditService(new FakeAudits(), new NoStore());
    const partial = new AuditReport(NOW, [], ['seat_held_past_hold_end'], 30_000);

    let thrown: unknown;
    try {
      service.requireComplete(partial, 30_000);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 30 });
    expect((thrown as Error).message).toContain('seat_held_past_hold_end');
  });

  it('should pass a complete report through when nothing is unchecked', () => {
    const service = new InvariantAuditService(new FakeAudits(), new NoStore());
    const report = new AuditReport(NOW, [], [], 5);
    expect(service.requireComplete(report, 30_000)).toBe(report);
  });
});
