import { AuditRule, RuleFinding } from './audit-rule';

export interface RuleQueryLimits {
  /** How many offending ids to list. */
  examples: number;
  /** The statement is cancelled past this; the repository then rejects with AuditTimeLimitError. */
  timeLimitMs: number;
}

/**
 * The audit's reads. Callers run them inside TransactionHost.withReadOnlySnapshot, so all rules
 * see one instant and lock nothing.
 */
export abstract class InvariantAuditRepository {
  /** The database clock now: the instant the rules judge holds and their expiry by. */
  abstract databaseNow(): Promise<Date>;

  /** Counts the offenders of `rule` as of `now` and lists the first few of them. */
  abstract findViolations(
    rule: AuditRule,
    now: Date,
    limits: RuleQueryLimits,
  ): Promise<RuleFinding>;
}

/** A rule's statement ran out of the time it was given and was cancelled by the database. */
export class AuditTimeLimitError extends Error {
  constructor(readonly rule: AuditRule) {
    super(`audit rule ${rule} exceeded its time limit`);
    this.name = 'AuditTimeLimitError';
  }
}
