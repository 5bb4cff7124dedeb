import { Concert, NewConcert, ScheduleSummary, SeatView } from './concert';
import { SchedulePlan } from './schedule-plan';

export abstract class ConcertRepository {
  abstract listConcerts(): Promise<Concert[]>;
  /** Which of these concerts exist (concerts are never deleted). */
  abstract findExistingConcertIds(concertIds: number[]): Promise<number[]>;
  /** Schedules whose booking window contains the database's current time, by startsAt. */
  abstract listSchedulesOpenNow(concertId: number): Promise<ScheduleSummary[]>;
  /** The concert of each of these schedules that exists (a schedule never changes concert). */
  abstract findConcertIdsOfSchedules(scheduleIds: number[]): Promise<Map<number, number>>;
  /** Seats by number; a hold past its expiry reads as AVAILABLE even before the release job. */
  abstract listSeats(scheduleId: number): Promise<SeatView[]>;
  abstract insertConcert(concert: NewConcert): Promise<Concert>;
  abstract insertScheduleWithSeats(concertId: number, plan: SchedulePlan): Promise<ScheduleSummary>;
}
