import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { Concert, NewConcert, ScheduleSummary, SeatView } from '../domain/concert';
import { ConcertService } from '../domain/concert.service';
import { SchedulePlanInput } from '../domain/schedule-plan';

@Injectable()
export class ConcertFacade {
  constructor(
    private readonly concerts: ConcertService,
    private readonly txHost: TransactionHost,
  ) {}

  listConcerts(): Promise<Concert[]> {
    return this.concerts.listConcerts();
  }

  listBookableSchedules(concertId: number): Promise<ScheduleSummary[]> {
    return this.concerts.listBookableSchedules(concertId);
  }

  listSeats(concertId: number, scheduleId: number): Promise<SeatView[]> {
    return this.concerts.listSeats(concertId, scheduleId);
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
      const seats = await this.concerts.listSeats(concertId, schedule.id);
      return { schedule, seats };
    });
  }
}
