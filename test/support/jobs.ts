import { INestApplicationContext } from '@nestjs/common';
import { ReservationFacade } from '../../src/modules/reservation/application/reservation.facade';
import { holdReleaseJob } from '../../src/modules/reservation/presentation/reservation.scheduler';

/**
 * One run of the hold release job as the scheduler makes it (same bounds), but a fresh job each
 * call: several calls at once are racing runners, past the scheduler's in-process guard, which is
 * what the "each hold expired exactly once" tests need. Throws if the run failed, so a broken
 * release cannot pass as "nothing to expire".
 */
export async function releaseExpiredHolds(app: INestApplicationContext): Promise<number> {
  const failures: string[] = [];
  const run = await holdReleaseJob(app.get(ReservationFacade), {
    warn: (message) => failures.push(message),
  }).run();
  if (run.status !== 'ran') throw new Error(`release run ${run.status}: ${failures.join('; ')}`);
  return run.processed;
}
