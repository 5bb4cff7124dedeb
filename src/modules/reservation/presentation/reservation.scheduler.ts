import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, AppConfig } from '../../../common/config/configuration';
import { ReservationFacade } from '../application/reservation.facade';
import { Deadline, runWithDeadline } from '../../../common/deadline/deadline';
import { RELEASE_INTERVAL_MS, RELEASE_RUN_DEADLINE_MS } from '../reservation.constants';

/**
 * The hold release job, on every instance where JOBS_ENABLED (tests call `tick()` themselves).
 * Every instance running it at the same moment is harmless: expiry is a conditional UPDATE, so
 * each reservation is expired by exactly one runner.
 */
@Injectable()
export class ReservationScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReservationScheduler.name);
  private running = false;

  constructor(
    private readonly reservations: ReservationFacade,
    private readonly registry: SchedulerRegistry,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.jobsEnabled) return;
    // ScheduleModule clears registered intervals on shutdown.
    this.registry.addInterval(
      'reservation-release',
      setInterval(() => void this.tick(), RELEASE_INTERVAL_MS),
    );
  }

  /** One run; returns how many holds it expired. Never throws: the next tick retries. */
  async tick(): Promise<number> {
    // Keeps a slow run from piling up behind itself in this process; not needed for safety.
    if (this.running) return 0;
    this.running = true;
    try {
      return await runWithDeadline(new Deadline(RELEASE_RUN_DEADLINE_MS), () =>
        this.reservations.releaseLapsedHolds(),
      );
    } catch (error) {
      this.logger.warn(`hold release run failed: ${(error as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
