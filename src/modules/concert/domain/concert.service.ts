import { Injectable } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import { Concert, NewConcert, ScheduleSummary, SeatView } from './concert';
import { ConcertRepository } from './concert.repository';
import { SchedulePlan, SchedulePlanInput } from './schedule-plan';

@Injectable()
export class ConcertService {
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

  private async assertConcertExists(concertId: number): Promise<void> {
    if (!(await this.concerts.concertExists(concertId))) {
      throw new DomainError(ErrorCode.CONCERT_NOT_FOUND, `Concert ${concertId} does not exist.`);
    }
  }
}
