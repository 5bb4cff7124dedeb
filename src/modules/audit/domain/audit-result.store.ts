import { AuditReport, PublishedAudit } from './audit-report';

/** Where the periodic audit is coordinated and its result shared by every instance. */
export abstract class AuditResultStore {
  /**
   * Claims the current period of `intervalSeconds` (by one clock shared by every instance) for
   * this caller. True for the first claim of a period, false for every later one.
   */
  abstract claimPeriod(intervalSeconds: number): Promise<boolean>;

  /** Makes `report` the latest audit every instance exports. */
  abstract publish(report: AuditReport): Promise<void>;

  abstract latest(): Promise<PublishedAudit | null>;
}
