import { Injectable } from '@nestjs/common';
import { TransactionHost } from '../../../common/database/transaction';
import { JobBatch } from '../../../common/jobs/single-flight-job';
import { DistributedLock, LockBusyError } from '../../../common/lock/distributed-lock';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { EventOutbox } from '../../../common/outbox/event-outbox';
import { seatUnavailable } from '../../concert/domain/concert.errors';
import { ConcertService } from '../../concert/domain/concert.service';
import { HoldableSeat, seatHoldsOf } from '../../concert/domain/seat';
import { SeatService } from '../../concert/domain/seat.service';
import { ActivePass } from '../../queue/domain/queue-entry';
import { QueueService } from '../../queue/domain/queue.service';
import { Reservation } from '../domain/reservation';
import { ExpiredHold } from '../domain/reservation.repository';
import { ReservationService } from '../domain/reservation.service';
import {
  HOLD_LOCK_WAIT_SECONDS,
  RELEASE_BATCH_SIZE,
  SEAT_LOCK_TTL_MS,
  seatLockKey,
} from '../reservation.constants';
import { reservationEvent } from './reservation.view';

@Injectable()
export class ReservationFacade {
  constructor(
    private readonly reservations: ReservationService,
    private readonly seats: SeatService,
    private readonly lock: DistributedLock,
    private readonly metrics: MetricsService,
    private readonly txHost: TransactionHost,
    private readonly events: EventOutbox,
    private readonly concerts: ConcertService,
    private readonly queue: QueueService,
  ) {}

  /**
   * Holds a seat for the user. Order: a plain pre-check (turns away sold/held seats without
   * touching locks) → the seat's Redis lock (a busy lock is a concurrent taker: 409 at once) →
   * one transaction whose conditional UPDATE on the seat row decides → commit → unlock.
   */
  async holdSeat(pass: ActivePass, scheduleId: number, seatId: number): Promise<Reservation> {
    const userId = pass.userId;
    await this.assertPassCoversSchedule(pass, scheduleId);
    const seat = await this.seats.getHoldable(scheduleId, seatId);
    const { reservation, retired } = await this.lock
      .withLock(seatLockKey(seatId), SEAT_LOCK_TTL_MS, () => this.holdLocked(userId, seat))
      .catch((error: unknown) => {
        throw error instanceof LockBusyError ? seatUnavailable(seatId) : error;
      });
    this.metrics.increment('reservation_holds_total');
    this.metrics.increment('reservation_expirations_total', retired);
    return reservation;
  }

  async getReservation(pass: ActivePass, reservationId: number): Promise<Reservation> {
    const reservation = await this.reservations.getOwned(reservationId, pass.userId);
    await this.assertPassCoversSchedule(pass, reservation.scheduleId);
    return reservation;
  }

  async cancelHold(pass: ActivePass, reservationId: number): Promise<Reservation> {
    // Which schedule a reservation is for never changes, so checking before the transaction holds.
    await this.getReservation(pass, reservationId);
    const cancelled = await this.cancelAndFreeSeat(pass.userId, reservationId);
    this.metrics.increment('reservation_cancellations_total');
    return cancelled;
  }

  /**
   * One batch of the release job: marks up to RELEASE_BATCH_SIZE expired holds EXPIRED and frees
   * their seats in one short transaction. Safe on every instance at once (see
   * ReservationService.expire); `processed` counts the reservations this call expired, `more`
   * says a full batch was found, so more may be waiting.
   */
  async releaseExpiredHoldBatch(): Promise<JobBatch> {
    const holds = await this.reservations.findExpiredHolds(RELEASE_BATCH_SIZE);
    if (holds.length === 0) return { processed: 0, more: false };
    const expired = await this.expireAndFreeSeats(holds);
    this.metrics.increment('reservation_expirations_total', expired);
    return { processed: expired, more: holds.length === RELEASE_BATCH_SIZE };
  }

  /** An ACTIVE token grants its own concert's schedules only (403 QUEUE_TOKEN_OTHER_CONCERT). */
  private async assertPassCoversSchedule(pass: ActivePass, scheduleId: number): Promise<void> {
    const concertId = await this.concerts.concertOfSchedule(scheduleId);
    // No such schedule: the hold's own lookup answers 404 SEAT_NOT_FOUND.
    if (concertId !== null) this.queue.assertGrants(pass, concertId);
  }

  // Lock order in every transaction touching seats: reservation rows, then the user row, then the
  // seat row (see docs/reservations.md), so holds, payments, cancels and the job never deadlock.
  private holdLocked(
    userId: string,
    seat: HoldableSeat,
  ): Promise<{ reservation: Reservation; retired: number }> {
    return this.txHost.withTransaction(
      async () => {
        const retired = await this.reservations.retireExpiredHold(seat.expiredReservationId);
        const expiresAt = await this.reservations.startHold(userId, seat.scheduleId);
        await this.seats.hold(seat, expiresAt);
        const reservation = await this.reservations.createHold(userId, seat, expiresAt);
        if (!reservation) throw seatUnavailable(seat.id);
        await this.seats.pinReservation({ seatId: seat.id, reservationId: reservation.id });
        // The expired hold this one displaced was marked here, not by the job: its event too.
        await this.events.record(
          ...(retired ? [reservationEvent('reservation.expired', retired)] : []),
          reservationEvent('reservation.held', reservation),
        );
        return { reservation, retired: retired ? 1 : 0 };
      },
      // A seat row locked past this is a stalled taker: the seat is unavailable (409), now.
      { lockWaitSeconds: HOLD_LOCK_WAIT_SECONDS },
    );
  }

  private cancelAndFreeSeat(userId: string, reservationId: number): Promise<Reservation> {
    return this.txHost.withTransaction(async () => {
      const cancelled = await this.reservations.cancel(reservationId, userId);
      await this.seats.release(seatHoldsOf([cancelled]));
      await this.events.record(reservationEvent('reservation.cancelled', cancelled));
      return cancelled;
    });
  }

  private expireAndFreeSeats(holds: ExpiredHold[]): Promise<number> {
    return this.txHost.withTransaction(async () => {
      const expired = await this.reservations.expire(holds);
      await this.seats.release(holds);
      await this.events.record(
        ...expired.map((reservation) => reservationEvent('reservation.expired', reservation)),
      );
      return expired.length;
    });
  }
}
