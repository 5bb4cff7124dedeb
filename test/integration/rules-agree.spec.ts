import { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isBookingOpenAt, SeatStatus } from '../../src/modules/concert/domain/concert';
import { bookingOpen } from '../../src/modules/concert/infrastructure/schedule.sql';
import { SeatRow, toSeat } from '../../src/modules/concert/infrastructure/seat.sql-repository';
import {
  seatHoldExpired,
  seatIsFree,
  seatStatusAt,
} from '../../src/modules/concert/infrastructure/seat.sql';
import { ReservationStatus } from '../../src/modules/reservation/domain/reservation';
import {
  reservationHoldExpired,
  reservationHoldLive,
} from '../../src/modules/reservation/infrastructure/reservation.sql';
import {
  ReservationRow,
  toReservation,
} from '../../src/modules/reservation/infrastructure/reservation.sql-repository';
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

/** The SQL answer and the model's for one row, labelled so a failure names the row. */
function expectAgreement(what: string, sqlAnswer: unknown, modelAnswer: unknown): void {
  expect({ what, sql: sqlAnswer }).toEqual({ what, sql: modelAnswer });
}

/** A stored row as the repositories map it, plus what the SQL fragments said of it. */
interface JudgedSeatRow extends SeatRow {
  hold_expired: unknown;
  status_at: SeatStatus;
  free: unknown;
}

interface JudgedReservationRow extends ReservationRow {
  expired: unknown;
  live: unknown;
}

interface ScheduleRow {
  booking_opens_at: Date;
  booking_closes_at: Date;
  open: unknown;
}

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

  /**
   * One row per case, inserted before the enclosing describe's tests; then one test per instant
   * of INSTANTS, which reads every row back from `table` (as `alias`) with `columns` (the SQL
   * fragments, judging at `t.at`), checks each row against the model with `agree`, and at T
   * itself pins the documented answers with `boundary`.
   */
  function judgeAtEachInstant<Case, Row>(rule: {
    kind: string;
    cases: Case[];
    insert: (c: Case) => Promise<number>;
    table: string;
    alias: string;
    columns: string;
    agree: (row: Row, at: Date) => void;
    boundary: (rows: Row[]) => void;
  }): void {
    const ids: number[] = [];

    beforeAll(async () => {
      for (const c of rule.cases) ids.push(await rule.insert(c));
    });

    it.each(INSTANTS.map((at) => [at.toISOString(), at]))(
      `should judge every ${rule.kind} alike at %s`,
      async (_label, at) => {
        const { table, alias, columns } = rule;
        const rows = await db.query<Row[]>(
          `SELECT ${columns} FROM ${table} ${alias} ${AT_JOIN}
            WHERE ${alias}.id IN (?) ORDER BY ${alias}.id`,
          [at, ids],
        );
        expect(rows).toHaveLength(rule.cases.length);
        for (const row of rows) rule.agree(row, at);
        if (at.getTime() === T.getTime()) rule.boundary(rows);
      },
    );
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
    judgeAtEachInstant({
      kind: 'seat',
      cases,
      insert: ([status, end]) => insertSeat(status, end),
      table: 'seats',
      alias: 's',
      columns: `s.*, ${seatHoldExpired('s', AT)} AS hold_expired,
                ${seatStatusAt('s', AT)} AS status_at, ${seatIsFree('s', AT)} AS free`,
      agree: (row: JudgedSeatRow, at) => {
        const seat = toSeat(row);
        const what = `${row.status} ending ${row.hold_expires_at?.toISOString() ?? 'never'}`;
        expectAgreement(what, truth(row.hold_expired), seat.holdExpiredAt(at));
        expectAgreement(what, row.status_at, seat.statusAt(at));
        expectAgreement(what, truth(row.free), seat.isHoldableAt(at));
      },
      // A hold ending exactly at T has expired at T.
      boundary: (rows) =>
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
        ]),
    });

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
    let userId: string;

    beforeAll(async () => {
      userId = randomUUID();
      await db.query(`INSERT INTO users (id, name, created_at) VALUES (?, 'Rules', ?)`, [
        userId,
        T,
      ]);
    });

    judgeAtEachInstant({
      kind: 'reservation',
      cases,
      insert: async ([status, expiresAt]) => {
        // One seat each: the live-seat unique key allows one HELD or CONFIRMED row per seat.
        const seatId = await insertSeat('AVAILABLE', null);
        const { insertId } = await db.query<{ insertId: number }>(
          `INSERT INTO reservations
             (user_id, schedule_id, seat_id, seat_number, price, status, expires_at, created_at, updated_at)
           VALUES (?, ?, ?, 1, 1000, ?, ?, ?, ?)`,
          [userId, scheduleId, seatId, status, expiresAt, T, T],
        );
        return insertId;
      },
      table: 'reservations',
      alias: 'r',
      columns: `r.*, ${reservationHoldExpired('r', AT)} AS expired,
                ${reservationHoldLive('r', AT)} AS live`,
      agree: (row: JudgedReservationRow, at) => {
        const reservation = toReservation(row);
        const what = `${row.status} ending ${row.expires_at.toISOString()}`;
        expectAgreement(what, truth(row.expired), reservation.holdExpiredAt(at));
        expectAgreement(what, truth(row.live), reservation.isLiveHoldAt(at));
      },
      boundary: (rows) =>
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
        ]),
    });
  });

  describe('the booking window is open (isBookingOpenAt ↔ schedule.sql.ts)', () => {
    const cases: [Date, Date][] = [
      [ms(1), ms(3_600_000)], // opens a millisecond after T
      [T, ms(3_600_000)], // opens exactly at T
      [ms(-1), ms(1)], // open around T
      [ms(-3_600_000), T], // closes exactly at T
      [ms(-3_600_000), ms(-1)], // closed a millisecond before T
    ];
    judgeAtEachInstant({
      kind: 'schedule',
      cases,
      insert: ([opensAt, closesAt]) => insertSchedule(opensAt, closesAt),
      table: 'concert_schedules',
      alias: 'cs',
      columns: `cs.booking_opens_at, cs.booking_closes_at, ${bookingOpen('cs', AT)} AS open`,
      agree: (row: ScheduleRow, at) => {
        const window = {
          bookingOpensAt: row.booking_opens_at,
          bookingClosesAt: row.booking_closes_at,
        };
        const what = `${window.bookingOpensAt.toISOString()} – ${window.bookingClosesAt.toISOString()}`;
        expectAgreement(what, truth(row.open), isBookingOpenAt(window, at));
      },
      boundary: (rows) =>
        expect(rows.map((row) => truth(row.open))).toEqual([false, true, true, false, false]),
    });
  });
});
