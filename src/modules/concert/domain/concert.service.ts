import { Injectable } from '@nestjs/common';
import { BatchedLoader } from '../../../common/batching/batched-loader';
import { Concert, NewConcert, ScheduleSummary, SeatView } from './concert';
import { concertNotFound, scheduleNotFound } from './concert.errors';
import { ConcertRepository } from './concert.repository';
import { SchedulePlan, SchedulePlanInput } from './schedule-plan';

const MAX_CACHED_SCHEDULES = 100_000;

@Injectable()
export class ConcertService {
  private readonly existingConcerts = new BatchedLoader<number, true>(async (ids) => {
    const found = await this.concerts.findExistingConcertIds(ids);
    return new Map(found.map((id) => [id, true]));
  });

  // Which concert a schedule belongs to never changes, so answers are kept (boundedly): the
  // waiting-room scope check asks it on every hold and payment.
  private readonly concertOfScheduleCache = new Map<number, number>();
  private readonly concertsOfSchedules = new BatchedLoader<number, number>((ids) =>
    this.concerts.findConcertIdsOfSchedules(ids),
  );

  constructor(private readonly concerts: ConcertRepository) {}

  /** The concert of the schedule, or null when there is no such schedule. */
  async concertOfSchedule(scheduleId: number): Promise<number | null> {
    const known = this.concertOfScheduleCache.get(scheduleId);
    if (known !== undefined) return known;
    const concertId = await this.concertsOfSchedules.load(scheduleId);
    if (concertId === undefined) return null;
    if (this.concertOfScheduleCache.size >= MAX_CACHED_SCHEDULES)
      this.concertOfScheduleCache.clear();
    this.concertOfScheduleCache.set(scheduleId, concertId);
    return concertId;
  }

  listConcerts(): Promise<Concert[]> {
    return this.concerts.listConcerts();
  }

  async listBookableSchedules(concertId: number): Promise<ScheduleSummary[]> {
    await this.assertConcertExists(concertId);
    return this.listSchedulesOpenNow(concertId);
  }

  /** The schedules of a concert known to exist whose booking window is open now. */
  listSchedulesOpenNow(concertId: number): Promise<ScheduleSummary[]> {
    return this.concerts.listSchedulesOpenNow(concertId);
  }

  /** 404 SCHEDULE_NOT_FOUND unless the schedule exists and belongs to the concert. */
  async assertScheduleOf(concertId: number, scheduleId: number): Promise<void> {
    if ((await this.concertOfSchedule(scheduleId)) !== concertId) {
      throw scheduleNotFound(concertId, scheduleId);
    }
  }

  listSeats(scheduleId: number): Promise<SeatView[]> {
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
      throw concertNotFound(concertId);
    }
  }
}
