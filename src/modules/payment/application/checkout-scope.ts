import { Injectable } from '@nestjs/common';
import { ConcertService } from '../../concert/domain/concert.service';
import { ActivePass } from '../../queue/domain/queue-entry';
import { QueueService } from '../../queue/domain/queue.service';
import { ReservationService } from '../../reservation/domain/reservation.service';

/**
 * An ACTIVE token pays for its own concert's reservations only. Checked before the checkout
 * transaction (and before an Idempotency-Key is claimed, so a 403 is never stored as the key's
 * answer): which schedule a reservation is for never changes, so the answer cannot go stale.
 * Reservations that are missing or someone else's are left to the checkout's own 404.
 */
@Injectable()
export class CheckoutScope {
  constructor(
    private readonly reservations: ReservationService,
    private readonly concerts: ConcertService,
    private readonly queue: QueueService,
  ) {}

  async assertCovers(pass: ActivePass, reservationIds: readonly number[]): Promise<void> {
    const scheduleIds = await this.reservations.scheduleIdsOwned(pass.userId, reservationIds);
    for (const scheduleId of scheduleIds) {
      const concertId = await this.concerts.concertOfSchedule(scheduleId);
      if (concertId !== null) this.queue.assertGrants(pass, concertId);
    }
  }
}
