import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { http, sql, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { activeTokenFor } from '../support/queue';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

interface Fan {
  userId: string;
  token: string;
  /** The user's own `Authorization: Bearer …` header. */
  auth: { authorization: string };
}

/** The hold journey through the HTTP API: hold → read → release, and privacy between users. */
describe('reservations (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  /** A signed-up user with an ACTIVE queue token for `concertId`. */
  async function fan(concertId: number): Promise<Fan> {
    const user = await signedUpUser(app);
    return {
      userId: user.id,
      token: await activeTokenFor(app, user.id, concertId),
      auth: await authHeader(user.id),
    };
  }

  /** A request with the fan's bearer and queue token. */
  function as(who: Fan, test: request.Test): request.Test {
    return test.set(who.auth).set('Queue-Token', who.token);
  }

  async function seatStatus(who: Fan, concertId: number, scheduleId: number, seatId: number) {
    const seats = await as(
      who,
      request(http(app)).get(`/concerts/${concertId}/schedules/${scheduleId}/seats`),
    ).expect(200);
    return (seats.body as { id: number; status: string }[]).find((seat) => seat.id === seatId)
      ?.status;
  }

  async function reservationRow(id: number) {
    const [row] = await sql<{ user_id: string; status: string; seat_status: string }[]>(
      app,
      `SELECT r.user_id, r.status, s.status AS seat_status
         FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id = ?`,
      [id],
    );
    return row;
  }

  it('should hold, read and cancel a seat, leaving it AVAILABLE again', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(app, {
      seatCount: 5,
      price: 77_000,
    });
    const holder = await fan(concertId);
    const { userId } = holder;
    const seat = schedule.seats[2];

    const held = await as(holder, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: seat.id })
      .expect(201);
    expect(held.body).toEqual({
      id: expect.any(Number),
      userId,
      scheduleId: schedule.id,
      seatId: seat.id,
      seatNumber: 3,
      price: 77_000,
      status: 'HELD',
      expiresAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      paymentId: null,
    });
    const holdMs = Date.parse(held.body.expiresAt) - Date.now();
    expect(holdMs).toBeGreaterThan(290_000);
    expect(holdMs).toBeLessThanOrEqual(301_000);
    await expect(seatStatus(holder, concertId, schedule.id, seat.id)).resolves.toBe('HELD');

    const read = await as(holder, request(http(app)).get(`/reservations/${held.body.id}`)).expect(
      200,
    );
    expect(read.body).toEqual(held.body);

    const cancelled = await as(
      holder,
      request(http(app)).delete(`/reservations/${held.body.id}`),
    ).expect(200);
    expect(cancelled.body).toEqual({ ...held.body, status: 'CANCELLED' });
    await expect(seatStatus(holder, concertId, schedule.id, seat.id)).resolves.toBe('AVAILABLE');

    const again = await as(
      holder,
      request(http(app)).delete(`/reservations/${held.body.id}`),
    ).expect(409);
    expect(again.body.code).toBe('RESERVATION_NOT_HELD');

    // The released seat can be held again, by anyone.
    const other = await fan(concertId);
    await as(other, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: seat.id })
      .expect(201);
  });

  it("should answer 404 RESERVATION_NOT_FOUND for someone else's reservation, and change nothing", async () => {
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const owner = await fan(concertId);
    // The stranger comes with their own bearer and their own ACTIVE token: all they lack is
    // ownership of the reservation.
    const stranger = await fan(concertId);
    const seat = schedule.seats[0];
    const held = await as(owner, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: seat.id })
      .expect(201);

    for (const method of ['get', 'delete'] as const) {
      const response = await as(
        stranger,
        request(http(app))[method](`/reservations/${held.body.id}`),
      ).expect(404);
      expect(response.body).toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    const missing = await as(stranger, request(http(app)).get('/reservations/2147483647')).expect(
      404,
    );
    expect(missing.body.code).toBe('RESERVATION_NOT_FOUND');

    await expect(reservationRow(held.body.id)).resolves.toEqual({
      user_id: owner.userId,
      status: 'HELD',
      seat_status: 'HELD',
    });
    const read = await as(owner, request(http(app)).get(`/reservations/${held.body.id}`)).expect(
      200,
    );
    expect(read.body.status).toBe('HELD');
    await expect(seatStatus(owner, concertId, schedule.id, seat.id)).resolves.toBe('HELD');
  });

  it("should answer 401 QUEUE_TOKEN_INVALID to a bearer sending someone else's queue token, and change nothing", async () => {
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const owner = await fan(concertId);
    const borrower = await fan(concertId);
    // The borrower's bearer with the owner's ACTIVE token.
    const borrowed: Fan = { ...borrower, token: owner.token };

    const hold = await as(borrowed, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: schedule.seats[0].id })
      .expect(401);
    expect(hold.body.code).toBe('QUEUE_TOKEN_INVALID');
    expect(hold.headers['content-type']).toMatch(/problem\+json/);
    const schedules = await as(
      borrowed,
      request(http(app)).get(`/concerts/${concertId}/schedules`),
    ).expect(401);
    expect(schedules.body.code).toBe('QUEUE_TOKEN_INVALID');

    await expect(
      sql(app, 'SELECT id FROM reservations WHERE schedule_id = ?', [schedule.id]),
    ).resolves.toEqual([]);
    await expect(
      sql(app, "SELECT id FROM seats WHERE schedule_id = ? AND status <> 'AVAILABLE'", [
        schedule.id,
      ]),
    ).resolves.toEqual([]);
    // The owner's token still works for its owner.
    await as(owner, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: schedule.seats[0].id })
      .expect(201);
  });

  it('should answer 401 AUTH_TOKEN_INVALID to a valid queue token without a bearer, and change nothing', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const holder = await fan(concertId);
    const held = await as(holder, request(http(app)).post('/reservations'))
      .send({ scheduleId: schedule.id, seatId: schedule.seats[0].id })
      .expect(201);

    const attempts = [
      request(http(app))
        .post('/reservations')
        .send({ scheduleId: schedule.id, seatId: schedule.seats[1].id }),
      request(http(app)).get(`/reservations/${held.body.id}`),
      request(http(app)).delete(`/reservations/${held.body.id}`),
      request(http(app)).get(`/concerts/${concertId}/schedules`),
      request(http(app)).get(`/concerts/${concertId}/schedules/${schedule.id}/seats`),
    ];
    for (const attempt of attempts) {
      const response = await attempt.set('Queue-Token', holder.token).expect(401);
      expect(response.body.code).toBe('AUTH_TOKEN_INVALID');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }

    await expect(
      sql(app, 'SELECT id, status FROM reservations WHERE schedule_id = ?', [schedule.id]),
    ).resolves.toEqual([{ id: held.body.id, status: 'HELD' }]);
    await expect(seatStatus(holder, concertId, schedule.id, schedule.seats[1].id)).resolves.toBe(
      'AVAILABLE',
    );
  });

  it('should answer the contract errors for seats that cannot be held', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const holder = await fan(concertId);
    const closed = await createConcertWithSchedule(app, {
      seatCount: 1,
      bookingOpensAt: new Date(Date.now() + 86_400_000).toISOString(),
      bookingClosesAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    const closedFan: Fan = {
      ...holder,
      token: await activeTokenFor(app, holder.userId, closed.concertId),
    };
    const hold = (who: Fan, body: object) =>
      as(who, request(http(app)).post('/reservations')).send(body);

    const otherSchedule = await hold(closedFan, {
      scheduleId: closed.schedule.id,
      seatId: schedule.seats[0].id,
    });
    expectProblem(otherSchedule, 404, 'SEAT_NOT_FOUND');
    const notOpen = await hold(closedFan, {
      scheduleId: closed.schedule.id,
      seatId: closed.schedule.seats[0].id,
    });
    expectProblem(notOpen, 409, 'BOOKING_CLOSED');
    const first = await hold(holder, { scheduleId: schedule.id, seatId: schedule.seats[0].id });
    expect(first.status).toBe(201);
    const taken = await hold(holder, { scheduleId: schedule.id, seatId: schedule.seats[0].id });
    expectProblem(taken, 409, 'SEAT_UNAVAILABLE');
    const invalid = await hold(holder, { scheduleId: schedule.id, seatId: '1', extra: true });
    expectProblem(invalid, 400, 'VALIDATION_FAILED');
  });

  it('should require an ACTIVE queue token', async () => {
    const user = await signedUpUser(app);
    const missing = await request(http(app))
      .post('/reservations')
      .set(await authHeader(user.id))
      .send({ scheduleId: 1, seatId: 1 })
      .expect(401);
    expect(missing.body.code).toBe('QUEUE_TOKEN_INVALID');
  });
});
