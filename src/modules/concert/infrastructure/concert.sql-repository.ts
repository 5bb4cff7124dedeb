import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { asWriteResult } from '../../../common/database/sql';
import { Concert, NewConcert, ScheduleSummary, SeatStatus, SeatView } from '../domain/concert';
import { ConcertRepository } from '../domain/concert.repository';
import { SchedulePlan } from '../domain/schedule-plan';
import { bookingOpen } from './schedule.sql';
import { seatIsFree, seatStatusAt } from './seat.sql';

interface ConcertRow {
  id: number;
  title: string;
  performer: string | null;
  created_at: Date;
}

interface ScheduleRow {
  id: number;
  concert_id: number;
  starts_at: Date;
  booking_opens_at: Date;
  booking_closes_at: Date;
  total_seats: number;
  available_seats: number | string | null;
}

interface SeatRow {
  id: number;
  number: number;
  price: number;
  status: SeatStatus;
}

const SCHEDULE_COLUMNS = `cs.id, cs.concert_id, cs.starts_at, cs.booking_opens_at, cs.booking_closes_at,
  cs.total_seats,
  (SELECT COUNT(*) FROM seats s WHERE s.schedule_id = cs.id AND ${seatIsFree('s')}) AS available_seats`;

@Injectable()
export class ConcertSqlRepository extends ConcertRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  private query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.txHost.tx.query<T>(sql, params);
  }

  async listConcerts(): Promise<Concert[]> {
    const rows = await this.txHost.readsMayLag.query<ConcertRow[]>(
      'SELECT id, title, performer, created_at FROM concerts ORDER BY id',
    );
    return rows.map(toConcert);
  }

  async findExistingConcertIds(concertIds: number[]): Promise<number[]> {
    if (concertIds.length === 0) return [];
    const rows = await this.query<{ id: number }[]>('SELECT id FROM concerts WHERE id IN (?)', [
      concertIds,
    ]);
    return rows.map((row) => Number(row.id));
  }

  async listSchedulesOpenNow(concertId: number): Promise<ScheduleSummary[]> {
    const rows = await this.txHost.readsMayLag.query<ScheduleRow[]>(
      `SELECT ${SCHEDULE_COLUMNS} FROM concert_schedules cs
        WHERE cs.concert_id = ? AND ${bookingOpen('cs')}
        ORDER BY cs.starts_at, cs.id`,
      [concertId],
    );
    return rows.map(toSchedule);
  }

  async findConcertIdsOfSchedules(scheduleIds: number[]): Promise<Map<number, number>> {
    if (scheduleIds.length === 0) return new Map();
    const rows = await this.query<{ id: number; concert_id: number }[]>(
      'SELECT id, concert_id FROM concert_schedules WHERE id IN (?)',
      [scheduleIds],
    );
    return new Map(rows.map((row) => [Number(row.id), Number(row.concert_id)]));
  }

  async listSeats(scheduleId: number): Promise<SeatView[]> {
    const rows = await this.txHost.readsMayLag.query<SeatRow[]>(
      `SELECT s.id, s.number, s.price, ${seatStatusAt('s')} AS status
         FROM seats s WHERE s.schedule_id = ? ORDER BY s.number`,
      [scheduleId],
    );
    return rows.map((row) => ({
      id: row.id,
      number: row.number,
      price: row.price,
      status: row.status,
    }));
  }

  async insertConcert(concert: NewConcert): Promise<Concert> {
    const now = new Date();
    const { insertId } = asWriteResult(
      await this.query('INSERT INTO concerts (title, performer, created_at) VALUES (?, ?, ?)', [
        concert.title,
        concert.performer,
        now,
      ]),
    );
    return { id: insertId, title: concert.title, performer: concert.performer, createdAt: now };
  }

  async insertScheduleWithSeats(concertId: number, plan: SchedulePlan): Promise<ScheduleSummary> {
    const now = new Date();
    const { insertId: scheduleId } = asWriteResult(
      await this.query(
        `INSERT INTO concert_schedules
           (concert_id, starts_at, booking_opens_at, booking_closes_at, total_seats, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [concertId, plan.startsAt, plan.bookingOpensAt, plan.bookingClosesAt, plan.seatCount, now],
      ),
    );
    // One multi-row INSERT: at most 500 seats, well under max_allowed_packet.
    const placeholders = plan.seatPrices.map(() => `(?, ?, ?, 'AVAILABLE', ?)`).join(', ');
    const params = plan.seatPrices.flatMap((price, index) => [scheduleId, index + 1, price, now]);
    await this.query(
      `INSERT INTO seats (schedule_id, number, price, status, updated_at) VALUES ${placeholders}`,
      params,
    );
    return {
      id: scheduleId,
      concertId,
      startsAt: plan.startsAt,
      bookingOpensAt: plan.bookingOpensAt,
      bookingClosesAt: plan.bookingClosesAt,
      totalSeats: plan.seatCount,
      availableSeats: plan.seatCount,
    };
  }
}

function toConcert(row: ConcertRow): Concert {
  return { id: row.id, title: row.title, performer: row.performer, createdAt: row.created_at };
}

function toSchedule(row: ScheduleRow): ScheduleSummary {
  return {
    id: row.id,
    concertId: row.concert_id,
    startsAt: row.starts_at,
    bookingOpensAt: row.booking_opens_at,
    bookingClosesAt: row.booking_closes_at,
    totalSeats: row.total_seats,
    availableSeats: Number(row.available_seats ?? 0),
  };
}
