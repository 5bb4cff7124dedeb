import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createConcertWithSchedule, createUser } from '../factories/catalogue.factory';
import { http, startApp } from '../support/app';
import { activeTokenFor } from '../support/queue';

/** The hold journey through the HTTP API: hold → read → release, and privacy between users. */
describe('reservations (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  async function fan(): Promise<{ userId: string; token: string }> {
    const user = await createUser(app);
    return { userId: user.id, token: await activeTokenFor(app, user.id) };
  }

  async function seatStatus(token: string, concertId: number, scheduleId: number, seatId: number) {
    const seats = await request(http(app))
      .get(`/concerts/${concertId}/schedules/${scheduleId}/seats`)
      .set('Queue-Token', token)
      .expect(200);
    return (seats.body as { id: number; status: string }[]).find((seat) => seat.id === seatId)
      ?.status;
  }

  it('should hold, read and cancel a seat, leaving it AVAILABLE again', async () => {
    const { userId, token } = await fan();
    const { concertId, schedule } = await createConcertWithSchedule(app, {
      seatCount: 5,
      price: 77_000,
    });
    const seat = schedule.seats[2];

    const held = await request(http(app))
      .post('/reservations')
      .set('Queue-Token', token)
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
    await expect(seatStatus(token, concertId, schedule.id, seat.id)).resolves.toBe('HELD');

    const read = await request(http(app))
      .get(`/reservations/${held.body.id}`)
      .set('Queue-Token', token)
      .expect(200);
    expect(read.body).toEqual(held.body);

    const cancelled = await request(http(app))
      .delete(`/reservations/${held.body.id}`)
      .set('Queue-Token', token)
      .expect(200);
    expect(cancelled.body).toEqual({ ...held.body, status: 'CANCELLED' });
    await expect(seatStatus(token, concertId, schedule.id, seat.id)).resolves.toBe('AVAILABLE');

    const again = await request(http(app))
      .delete(`/reservations/${held.body.id}`)
      .set('Queue-Token', token)
      .expect(409);
    expect(again.body.code).toBe('RESERVATION_NOT_HELD');

    // The released seat can be held again, by anyone.
    const other = await fan();
    await request(http(app))
      .post('/reservations')
      .set('Queue-Token', other.token)
      .send({ scheduleId: schedule.id, seatId: seat.id })
      .expect(201);
  });

  it("should answer 404 RESERVATION_NOT_FOUND for someone else's reservation, and change nothing", async () => {
    const owner = await fan();
    const stranger = await fan();
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const seat = schedule.seats[0];
    const held = await request(http(app))
      .post('/reservations')
      .set('Queue-Token', owner.token)
      .send({ scheduleId: schedule.id, seatId: seat.id })
      .expect(201);

    for (const method of ['get', 'delete'] as const) {
      const response = await request(http(app))
        [method](`/reservations/${held.body.id}`)
        .set('Queue-Token', stranger.token)
        .expect(404);
      expect(response.body).toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    const missing = await request(http(app))
      .get('/reservations/2147483647')
      .set('Queue-Token', stranger.token)
      .expect(404);
    expect(missing.body.code).toBe('RESERVATION_NOT_FOUND');

    const read = await request(http(app))
      .get(`/reservations/${held.body.id}`)
      .set('Queue-Token', owner.token)
      .expect(200);
    expect(read.body.status).toBe('HELD');
    await expect(seatStatus(owner.token, concertId, schedule.id, seat.id)).resolves.toBe('HELD');
  });

  it('should answer the contract errors for seats that cannot be held', async () => {
    const { token } = await fan();
    const { schedule } = await createConcertWithSchedule(app, { seatCount: 2 });
    const closed = await createConcertWithSchedule(app, {
      seatCount: 1,
      bookingOpensAt: new Date(Date.now() + 86_400_000).toISOString(),
      bookingClosesAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    const hold = (body: object) =>
      request(http(app)).post('/reservations').set('Queue-Token', token).send(body);

    const otherSchedule = await hold({
      scheduleId: closed.schedule.id,
      seatId: schedule.seats[0].id,
    });
    expect([otherSchedule.status, otherSchedule.body.code]).toEqual([404, 'SEAT_NOT_FOUND']);
    const notOpen = await hold({
      scheduleId: closed.schedule.id,
      seatId: closed.schedule.seats[0].id,
    });
    expect([notOpen.status, notOpen.body.code]).toEqual([409, 'BOOKING_CLOSED']);
    await hold({ scheduleId: schedule.id, seatId: schedule.seats[0].id }).expect(201);
    const taken = await hold({ scheduleId: schedule.id, seatId: schedule.seats[0].id });
    expect([taken.status, taken.body.code]).toEqual([409, 'SEAT_UNAVAILABLE']);
    const invalid = await hold({ scheduleId: schedule.id, seatId: '1', extra: true });
    expect([invalid.status, invalid.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('should require an ACTIVE queue token', async () => {
    const missing = await request(http(app))
      .post('/reservations')
      .send({ scheduleId: 1, seatId: 1 })
      .expect(401);
    expect(missing.body.code).toBe('QUEUE_TOKEN_INVALID');
  });
});
