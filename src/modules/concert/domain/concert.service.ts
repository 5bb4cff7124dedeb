import { Injectable } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import { BatchedLoader } from '../../../common/batching/batched-loader';
import { Concert, NewConcert, ScheduleSummary, SeatView } from './concert';
import { ConcertRepository } from './concert.repository';
import { SchedulePlan, SchedulePlanInput } from './schedule-plan';

@Injectable()
export class ConcertService {
  private readonly existingConcerts = new BatchedLoader<number, true>(async (ids) => {
    const found = await this.concerts.findExistingConcertIds(ids);
    return new Map(found.map((id) => [id, true]));
  });

  constructor(private readonly concerts: ConcertRepository) {}

  listConcerts(): Promise<Concert[]> {
    return this.concerts.listConcerts();
  }

  async listBookableSchedules(concertId: number): Promise<ScheduleSummary[]> {
    await this.assertConcertExists(concertId);
    return this.concerts.listSchedulesOpenNow(concertId);
  }

  async listSeats(concertId: number, scheduleId: number): Promise<SeatView[]> {
    if (!(await this.concerts.scheduleExists(concertId, scheduleId))) {
      throw new DomainError(
        ErrorCode.SCHEDULE_NOT_FOUND,
        `Concert ${concertId} has no schedule ${scheduleId}.`,
      );
    }
    return this.concerts.listSeats(scheduleId);
  }

  createConcert(concert: NewConcert): Promise<Concert> {
    return this.concerts.insertConcert(concert);
  }

  async createSchedule(concertId: number, input: SchedulePlanInput): Promise<ScheduleSummary> {
    const plan = SchedulePlan.from(input);
    await this.assertConcertExists(concertId);
    return this.concerts.insertScheduleWithSeats(concertId, plan);
  }

  /** 404 CONCERT_NOT_FOUND unless the concert exists; concerts arriving together share a query. */
  async assertConcertExists(concertId: number): Promise<void> {
    if (!(await this.existingConcerts.load(concertId))) {
      throw new DomainError(ErrorCode.CONCERT_NOT_FOUND, `Concert ${concertId} does not exist.`);
    }
  }
}
