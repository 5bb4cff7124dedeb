import { AuditRule, RuleFinding } from './audit-rule';

/** The outcome of one audit: every rule that finished, and those the time limit cut off. */
export class AuditReport {
  constructor(
    /** The database clock at the snapshot: the instant every rule was judged at. */
    readonly checkedAt: Date,
    readonly findings: readonly RuleFinding[],
    /** Rules not finished within the time limit: nothing is known about them. */
    readonly unchecked: readonly AuditRule[],
    readonly durationMs: number,
  ) {}

  get complete(): boolean {
    return this.unchecked.length === 0;
  }

  get violations(): RuleFinding[] {
    return this.findings.filter((finding) => finding.count > 0);
  }

  /** True only for a complete audit without violations: an unchecked rule proves nothing. */
  get ok(): boolean {
    return this.complete && this.violations.length === 0;
  }
}

/** The latest periodic audit as every instance reads it back (for the metrics). */
export interface PublishedAudit {
  checkedAt: Date;
  durationMs: number;
  findings: RuleFinding[];
  unchecked: AuditRule[];
  /** checkedAt of the latest audit that finished every rule; null before the first. */
  lastCompleteAt: Date | null;
}
