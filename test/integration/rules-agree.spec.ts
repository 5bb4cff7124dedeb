import { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isBookingOpenAt, SeatStatus } from '../../src/modules/concert/domain/concert';
import { Seat } from '../../src/modules/concert/domain/seat';
import { bookingOpen } from '../../src/modules/concert/infrastructure/schedule.sql';
import {
  seatHoldExpired,
  seatIsFree,
  seatStatusAt,
} from '../../src/modules/concert/infrastructure/seat.sql';
import { Reservation, ReservationStatus } from '../../src/modules/reservation/domain/reservation';
import {
  reservationHoldExpired,
  reservationHoldLive,
} from '../../src/modules/reservation/infrastructure/reservation.sql';
import { startModules } from '../support/modules';

/**
 * Each time rule is stated twice on purpose: in SQL (the fragments every query uses, so the
 * database can decide races and filter in an index) and in the TypeScript model (what a row read
 * at the database clock means). Here both judge the same rows at the same instants, around the
 * boundaries, and must agree; the boundary rows are also pinned to the documented answer (the
 * instant of expiry is expired; a booking window includes its opening and excludes its closing).
 */

const T = new Date('2031-03-01T12:00:00.000Z');
const ms = (offset: number) => new Date(T.getTime() + offset);
/** T itself and one millisecond (DATETIME(3)'s resolution) either side. */
const INSTANTS = [ms(-1), T, ms(1)];

/** `t.at` is the instant, a parameter, so one statement judges every row at exactly that time. */
const AT = 't.at';
const AT_JOIN = 'CROSS JOIN (SELECT CAST(? AS DATETIME(3)) AS at) t';

const truth = (value: unknown) => Number(value) === 1;

describe('Time rules: the SQL fragments and the TypeScript model agree', () => {
  let app: INestApplicationContext;
  let db: DataSource;
  let concertId: number;
  let scheduleId: number;

  beforeAll(async () => {
    app = await startModules([]);
    db = app.get(DataSource);
    const concert = await db.query<{ insertId: number }>(
      `INSERT INTO concerts (title, performer, created_at) VALUES ('Rules', NULL, ?)`,
      [T],
    );
    concertId = concert.insertId;
    scheduleId = await insertSchedule(ms(-86_400_000), ms(86_400_000));
  });

  afterAll(async () => {
    await app?.close();
  });

  async function insertSchedule(opensAt: Date, closesAt: Date): Promise<number> {
    const { insertId } = await db.query<{ insertId: number }>(
      `INSERT INTO concert_schedules
         (concert_id, starts_at, booking_opens_at, booking_closes_at, total_seats, created_at)
       VALUES (?, ?, ?, ?, 100, ?)`,
      [concertId, ms(2 * 86_400_000), opensAt, closesAt, T],
    );
    return insertId;
  }

  let seatNumber = 0;
  async function insertSeat(status: SeatStatus, holdExpiresAt: Date | null): Promise<number> {
    seatNumber += 1;
    const { insertId } = await db.query<{ insertId: number }>(
      `INSERT INTO seats (schedule_id, number, price, status, reservation_id, hold_expires_at, updated_at)
       VALUES (?, ?, 1000, ?, NULL, ?, ?)`,
      [scheduleId, seatNumber, status, holdExpiresAt, T],
    );
    return insertId;
  }

  describe('a seat whose hold expired is free (Seat.holdExpiredAt ↔ seat.sql.ts)', () => {
    const cases: [SeatStatus, Date | null][] = [
      ['HELD', ms(-1)], // expired a millisecond ago
      ['HELD', T], // expires exactly at T
      ['HELD', ms(1)], // a millisecond left
      ['HELD', ms(-3_600_000)], // long expired, the job never came
      ['HELD', null], // a broken row: no end is never expired
      ['AVAILABLE', null],
      ['AVAILABLE', ms(-1)], // a stale end on a free seat
      ['SOLD', null],
      ['SOLD', ms(-1)], // a stale end on a sold seat: sold stays sold
    ];
    const ids: number[] = [];

    beforeAll(async () => {
      for (const [status, end] of cases) ids.push(await insertSeat(status, end));
    });

    it.each(INSTANTS.map((at) => [at.toISOString(), at]))(
      'should judge every seat alike at %s',
      async (_label, at) => {
        const rows = await db.query<
          {
            id: number;
            schedule_id: number;
            number: number;
            price: number;
            status: SeatStatus;
            reservation_id: number | null;
            hold_expires_at: Date | null;
            hold_expired: unknown;
            status_at: SeatStatus;
            free: unknown;
          }[]
        >(
          `SELECT s.*, ${seatHoldExpired('s', AT)} AS hold_expired,
                  ${seatStatusAt('s', AT)} AS status_at, ${seatIsFree('s', AT)} AS free
             FROM seats s ${AT_JOIN} WHERE s.id IN (?) ORDER BY s.id`,
          [at, ids],
        );
        expect(rows).toHaveLength(cases.length);
        for (const row of rows) {
          const seat = new Seat(
            row.id,
            row.schedule_id,
            row.number,
            row.price,
            row.status,
            row.reservation_id,
            row.hold_expires_at,
          );
          const what = `${row.status} ending ${row.hold_expires_at?.toISOString() ?? 'never'}`;
          expect({ what, sql: truth(row.hold_expired) }).toEqual({
            what,
            sql: seat.holdExpiredAt(at),
          });
          expect({ what, sql: row.status_at }).toEqual({ what, sql: seat.statusAt(at) });
          expect({ what, sql: truth(row.free) }).toEqual({ what, sql: seat.isHoldableAt(at) });
        }
        // The boundary, pinned: a hold ending exactly at T has expired at T.
        if (at.getTime() === T.getTime()) {
          expect(rows.map((row) => truth(row.hold_expired))).toEqual([
            true,
            true,
            false,
            true,
            false,
            false,
            false,
            false,
            false,
          ]);
        }
      },
    );

    it('should judge by the database clock when no instant is given', async () => {
      const [row] = await db.query<{ expired: unknown; free: unknown; now: Date }[]>(
        `SELECT ${seatHoldExpired('s')} AS expired, ${seatIsFree('s')} AS free,
                UTC_TIMESTAMP(3) AS now
           FROM seats s WHERE s.id = ?`,
        [await insertSeat('HELD', new Date(Date.now() - 60_000))],
      );
      expect([truth(row.expired), truth(row.free)]).toEqual([true, true]);
      expect(Math.abs(row.now.getTime() - Date.now())).toBeLessThan(60_000);
    });
  });

  describe('a HELD reservation past its end is expired (Reservation.holdExpiredAt ↔ reservation.sql.ts)', () => {
    const cases: [ReservationStatus, Date][] = [
      ['HELD', ms(-1)],
      ['HELD', T],
      ['HELD', ms(1)],
      ['HELD', ms(-3_600_000)],
      ['CONFIRMED', ms(-1)],
      ['CONFIRMED', ms(1)],
      ['EXPIRED', ms(-1)],
      ['CANCELLED', ms(1)],
      ['REFUNDED', ms(-1)],
    ];
    const ids: number[] = [];

    beforeAll(async () => {
      const userId = randomUUID();
      await db.query(`INSERT INTO users (id, name, created_at) VALUES (?, 'Rules', ?)`, [
        userId,
        T,
      ]);
      for (const [status, expiresAt] of cases) {
        // One seat each: the live-seat unique key allows one HELD or CONFIRMED row per seat.
        const seatId = await insertSeat('AVAILABLE', null);
        const { insertId } = await db.query<{ insertId: number }>(
          `INSERT INTO reservations
             (user_id, schedule_id, seat_id, seat_number, price, status, expires_at, created_at, updated_at)
           VALUES (?, ?, ?, 1, 1000, ?, ?, ?, ?)`,
          [userId, scheduleId, seatId, status, expiresAt, T, T],
        );
        ids.push(insertId);
      }
    });

    it.each(INSTANTS.map((at) => [at.toISOString(), at]))(
      'should judge every reservation alike at %s',
      async (_label, at) => {
        const rows = await db.query<
          {
            id: number;
            user_id: string;
            schedule_id: number;
            seat_id: number;
            seat_number: number;
            price: number;
            status: ReservationStatus;
            expires_at: Date;
            payment_id: number | null;
            expired: unknown;
            live: unknown;
          }[]
        >(
          `SELECT r.*, ${reservationHoldExpired('r', AT)} AS expired,
                  ${reservationHoldLive('r', AT)} AS live
             FROM reservations r ${AT_JOIN} WHERE r.id IN (?) ORDER BY r.id`,
          [at, ids],
        );
        expect(rows).toHaveLength(cases.length);
        for (const row of rows) {
          const reservation = new Reservation(
            row.id,
            row.user_id,
            row.schedule_id,
            row.seat_id,
            row.seat_number,
            row.price,
            row.status,
            row.expires_at,
            row.payment_id,
          );
          const what = `${row.status} ending ${row.expires_at.toISOString()}`;
          expect({ what, sql: truth(row.expired) }).toEqual({
            what,
            sql: reservation.holdExpiredAt(at),
          });
          expect({ what, sql: truth(row.live) }).toEqual({
            what,
            sql: reservation.isLiveHoldAt(at),
          });
        }
        if (at.getTime() === T.getTime()) {
          expect(rows.map((row) => [truth(row.expired), truth(row.live)])).toEqual([
            [true, false],
            [true, false], // the instant of expiry is expired
            [false, true],
            [true, false],
            [false, false],
            [false, false],
            [false, false],
            [false, false],
            [false, false],
          ]);
        }
      },
    );
  });

  describe('the booking window is open (isBookingOpenAt ↔ schedule.sql.ts)', () => {
    const cases: [Date, Date][] = [
      [ms(1), ms(3_600_000)], // opens a millisecond after T
      [T, ms(3_600_000)], // opens exactly at T
      [ms(-1), ms(1)], // open around T
      [ms(-3_600_000), T], // closes exactly at T
      [ms(-3_600_000), ms(-1)], // closed a millisecond before T
    ];
    const ids: number[] = [];

    beforeAll(async () => {
      for (const [opensAt, closesAt] of cases) ids.push(await insertSchedule(opensAt, closesAt));
    });

    it.each(INSTANTS.map((at) => [at.toISOString(), at]))(
      'should judge every schedule alike at %s',
      async (_label, at) => {
        const rows = await db.query<
          { booking_opens_at: Date; booking_closes_at: Date; open: unknown }[]
        >(
          `SELECT cs.booking_opens_at, cs.booking_closes_at, ${bookingOpen('cs', AT)} AS open
             FROM concert_schedules cs ${AT_JOIN} WHERE cs.id IN (?) ORDER BY cs.id`,
          [at, ids],
        );
        expect(rows).toHaveLength(cases.length);
        for (const row of rows) {
          const window = {
            bookingOpensAt: row.booking_opens_at,
            bookingClosesAt: row.booking_closes_at,
          };
          const what = `${window.bookingOpensAt.toISOString()} – ${window.bookingClosesAt.toISOString()}`;
          expect({ what, sql: truth(row.open) }).toEqual({
            what,
            sql: isBookingOpenAt(window, at),
          });
        }
        if (at.getTime() === T.getTime()) {
          expect(rows.map((row) => truth(row.open))).toEqual([false, true, true, false, false]);
        }
      },
    );
  });
});
