import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../../../common/config/configuration';
import { QueueFacade } from '../application/queue.facade';
import { ADMISSION_INTERVAL_MS } from '../queue.constants';

/**
 * Runs admission on every instance where JOBS_ENABLED (tests drive `tick()` themselves). Runs
 * overlapping across instances are harmless: each Redis step is one atomic script.
 */
@Injectable()
export class QueueScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(QueueScheduler.name);
  private running = false;

  constructor(
    private readonly queue: QueueFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    // ScheduleModule clears registered intervals on shutdown.
    this.registry.addInterval(
      'queue-admission',
      setInterval(() => void this.tick(), ADMISSION_INTERVAL_MS),
    );
  }

  async tick(): Promise<void> {
    // Only to avoid piling runs up in this process while Redis is slow; not needed for safety.
    if (this.running) return;
    this.running = true;
    try {
      await this.queue.runAdmission();
    } catch (error) {
      this.logger.warn(`queue admission run failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
