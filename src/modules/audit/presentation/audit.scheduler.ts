import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  appConfig,
  AppConfig,
  auditConfig,
  AuditConfig,
} from '../../../common/config/configuration';
import { NOT_CLAIMED, SingleFlightJob } from '../../../common/jobs/single-flight-job';
import { AuditFacade } from '../application/audit.facade';
import { AuditReport } from '../domain/audit-report';
import { auditTickIntervalMs } from '../audit.constants';

export type AuditTick = 'ran' | 'skipped' | 'failed' | 'off';

// The audit stops itself at its time limit and publishes what it has; the run's deadline only
// has to leave room for the claim and the publish around it.
const CLAIM_AND_PUBLISH_MARGIN_MS = 5_000;

/**
 * The periodic audit, ticking on every instance where JOBS_ENABLED and AUDIT_INTERVAL_SECONDS > 0
 * (tests call `tick()` themselves). Ticking everywhere is what keeps it running when an instance
 * dies; the per-period claim in Redis is what makes only one of them read the database.
 */
@Injectable()
export class AuditScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditScheduler.name);
  private readonly job: SingleFlightJob;

  constructor(
    private readonly audits: AuditFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {
    this.job = new SingleFlightJob(
      {
        name: 'invariant-audit',
        maxBatchesPerRun: 1,
        deadlineMs: config.timeLimitMs + CLAIM_AND_PUBLISH_MARGIN_MS,
        logger: this.logger,
      },
      async () => {
        const report = await this.audits.auditOncePerPeriod();
        if (!report) return NOT_CLAIMED;
        this.logFindings(report);
        return { processed: 1, more: false };
      },
    );
  }

  onApplicationBootstrap(): void {
    if (!this.app.jobsEnabled || this.config.intervalSeconds === 0) return;
    this.job.scheduleEvery(this.registry, auditTickIntervalMs(this.config.intervalSeconds));
  }

  /** One tick: 'ran' when this instance audited the period. Never throws: the next tick retries. */
  async tick(): Promise<AuditTick> {
    if (this.config.intervalSeconds === 0) return 'off';
    const { status } = await this.job.run();
    return status === 'busy' || status === 'not-claimed' ? 'skipped' : status;
  }

  private logFindings(report: AuditReport): void {
    if (!report.complete) {
      this.logger.warn(
        `audit cut off by its time limit; unchecked: ${report.unchecked.join(', ')}`,
      );
    } else if (!report.ok) {
      const found = report.violations.map((v) => `${v.rule}=${v.count}`).join(', ');
      this.logger.error(`booking invariants violated: ${found}`);
    }
  }
}
