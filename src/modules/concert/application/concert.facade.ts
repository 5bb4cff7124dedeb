import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { Concert, NewConcert, ScheduleSummary, SeatView } from '../domain/concert';
import { ConcertService } from '../domain/concert.service';
import { SchedulePlanInput } from '../domain/schedule-plan';
import { ActivePass } from '../../queue/domain/queue-entry';
import { QueueService } from '../../queue/domain/queue.service';

@Injectable()
export class ConcertFacade {
  constructor(
    private readonly concerts: ConcertService,
    private readonly txHost: TransactionHost,
    private readonly queue: QueueService,
  ) {}

  listConcerts(): Promise<Concert[]> {
    return this.concerts.listConcerts();
  }

  /**
   * An ACTIVE token of concert C shows C's schedules only (403 for any other concert). A concert
   * or schedule that does not exist is a 404 first: the catalogue is public anyway.
   */
  async listBookableSchedules(pass: ActivePass, concertId: number): Promise<ScheduleSummary[]> {
    await this.concerts.assertConcertExists(concertId);
    this.queue.assertGrants(pass, concertId);
    return this.concerts.listSchedulesOpenNow(concertId);
  }

  async listSeats(pass: ActivePass, concertId: number, scheduleId: number): Promise<SeatView[]> {
    await this.concerts.assertScheduleOf(concertId, scheduleId);
    this.queue.assertGrants(pass, concertId);
    return this.concerts.listSeats(scheduleId);
  }

  createConcert(concert: NewConcert): Promise<Concert> {
    return this.concerts.createConcert(concert);
  }

  /** The schedule and all of its seats appear together or not at all. */
  putScheduleOnSale(
    concertId: number,
    input: SchedulePlanInput,
  ): Promise<{ schedule: ScheduleSummary; seats: SeatView[] }> {
    return this.txHost.withTransaction(async () => {
      const schedule = await this.concerts.createSchedule(concertId, input);
      const seats = await this.concerts.listSeats(schedule.id);
      return { schedule, seats };
    });
  }
}
