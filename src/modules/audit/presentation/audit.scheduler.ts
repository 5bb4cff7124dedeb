import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  appConfig,
  AppConfig,
  auditConfig,
  AuditConfig,
} from '../../../common/config/configuration';
import { AuditFacade } from '../application/audit.facade';
import { auditTickIntervalMs } from '../audit.constants';

export type AuditTick = 'ran' | 'skipped' | 'failed' | 'off';

/**
 * The periodic audit, ticking on every instance where JOBS_ENABLED and AUDIT_INTERVAL_SECONDS > 0
 * (tests call `tick()` themselves). Ticking everywhere is what keeps it running when an instance
 * dies; the per-period claim in Redis is what makes only one of them read the database.
 */
@Injectable()
export class AuditScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditScheduler.name);
  private running = false;

  constructor(
    private readonly audits: AuditFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.app.jobsEnabled || this.config.intervalSeconds === 0) return;
    // ScheduleModule clears registered intervals on shutdown.
    this.registry.addInterval(
      'invariant-audit',
      setInterval(() => void this.tick(), auditTickIntervalMs(this.config.intervalSeconds)),
    );
  }

  /** One tick: 'ran' when this instance audited the period. Never throws: the next tick retries. */
  async tick(): Promise<AuditTick> {
    if (this.config.intervalSeconds === 0) return 'off';
    // A run still reading when the next tick comes must not start a second one in this process.
    if (this.running) return 'skipped';
    this.running = true;
    try {
      const report = await this.audits.auditOncePerPeriod();
      if (!report) return 'skipped';
      if (!report.complete) {
        this.logger.warn(
          `audit cut off by its time limit; unchecked: ${report.unchecked.join(', ')}`,
        );
      } else if (!report.ok) {
        const found = report.violations.map((v) => `${v.rule}=${v.count}`).join(', ');
        this.logger.error(`booking invariants violated: ${found}`);
      }
      return 'ran';
    } catch (error) {
      this.logger.warn(`audit run failed: ${(error as Error).message}`);
      return 'failed';
    } finally {
      this.running = false;
    }
  }
}
