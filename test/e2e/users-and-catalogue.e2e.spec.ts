import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createConcert, createSchedule } from '../factories/catalogue.factory';
import { ADMIN_KEY, http, sql, startApp } from '../support/app';
import { accessToken, authHeader } from '../support/auth';
import { activeTokenFor } from '../support/queue';
import { aUser, signedUpUser } from '../factories/user.factory';

describe('users and catalogue (e2e)', () => {
  let app: NestFastifyApplication;
  let fanId: string;
  let bearer: string;
  let queueToken: string;
  /** The concert `queueToken` was issued for. */
  let fanConcertId: number;

  beforeAll(async () => {
    app = await startApp();
    fanId = (await signedUpUser(app)).id;
    bearer = `Bearer ${await accessToken(fanId)}`;
    fanConcertId = (await createConcert(app)).id;
    queueToken = await activeTokenFor(app, fanId, fanConcertId);
  });

  const tokens = new Map<number, string>();
  /**
   * GET on an [active token] endpoint as this file's fan, with their bearer and an ACTIVE token
   * of the path's concert (a token grants its own concert only), expecting `status`. A concert
   * that does not exist gets the fan's first token.
   */
  async function getActive(path: string, status: number) {
    const concertId = Number(/^\/concerts\/(\d+)/.exec(path)?.[1]);
    const exists = (await sql(app, 'SELECT 1 FROM concerts WHERE id = ?', [concertId])).length > 0;
    const room = exists ? concertId : fanConcertId;
    if (!tokens.has(room)) tokens.set(room, await activeTokenFor(app, fanId, room));
    return request(http(app))
      .get(path)
      .set('Authorization', bearer)
      .set('Queue-Token', tokens.get(room)!)
      .expect(status);
  }

  afterAll(async () => {
    await app.close();
  });

  it('should register a user with an empty wallet and read it back', async () => {
    const created = await request(http(app))
      .post('/users')
      .send(aUser({ name: '  Kim Minji ', email: 'minji@example.test' }))
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Kim Minji',
      email: 'minji@example.test',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    const mine = await authHeader(created.body.id);
    const fetched = await request(http(app)).get(`/users/${created.body.id}`).set(mine).expect(200);
    expect(fetched.body).toEqual(created.body);
    const viaAlias = await request(http(app)).get('/users/me').set(mine).expect(200);
    expect(viaAlias.body).toEqual(created.body);
    const wallets = await sql(app, 'SELECT balance FROM cash_wallets WHERE user_id = ?', [
      created.body.id,
    ]);
    expect(wallets).toEqual([{ balance: 0 }]);
  });

  it('should answer 404 USER_NOT_FOUND for an id that is not the caller’s, existing or not', async () => {
    const other = await signedUpUser(app);
    for (const id of [other.id, '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11']) {
      const response = await request(http(app))
        .get(`/users/${id}`)
        .set('Authorization', bearer)
        .expect(404)
        .expect('Content-Type', /application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
      expect(response.body.detail).toBe('No such user.');
    }
    const anonymous = await request(http(app)).get(`/users/${other.id}`).expect(401);
    expect(anonymous.body.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('should answer 404 USER_NOT_FOUND with its title', async () => {
    const response = await request(http(app))
      .get('/users/5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11')
      .set('Authorization', bearer)
      .expect(404)
      .expect('Content-Type', /application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 404,
      code: 'USER_NOT_FOUND',
      title: 'User not found',
    });
  });

  it('should create a concert and a schedule with numbered seats', async () => {
    const concert = await createConcert(app, { title: 'IU Golden Hour', performer: 'IU' });
    expect(concert).toMatchObject({ title: 'IU Golden Hour', performer: 'IU' });

    const schedule = await createSchedule(app, concert.id, {
      seatCount: 5,
      prices: [10, 20, 30, 40, 50],
    });
    expect(schedule).toMatchObject({ concertId: concert.id, totalSeats: 5, availableSeats: 5 });
    expect(schedule.seats.map((seat) => [seat.number, seat.price, seat.status])).toEqual([
      [1, 10, 'AVAILABLE'],
      [2, 20, 'AVAILABLE'],
      [3, 30, 'AVAILABLE'],
      [4, 40, 'AVAILABLE'],
      [5, 50, 'AVAILABLE'],
    ]);

    const list = await request(http(app)).get('/concerts').expect(200);
    expect(list.body).toContainEqual(
      expect.objectContaining({ id: concert.id, title: 'IU Golden Hour' }),
    );

    const seats = await getActive(`/concerts/${concert.id}/schedules/${schedule.id}/seats`, 200);
    expect(seats.body).toHaveLength(5);
    expect(seats.body[0]).toEqual({
      id: schedule.seats[0].id,
      number: 1,
      price: 10,
      status: 'AVAILABLE',
    });
  });

  it('should default to 50 seats at 50,000 KRW', async () => {
    const concert = await createConcert(app);
    const schedule = await createSchedule(app, concert.id);
    expect(schedule.seats).toHaveLength(50);
    expect(schedule.seats.map((s) => s.number)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(new Set(schedule.seats.map((s) => s.price))).toEqual(new Set([50_000]));
  });

  it('should list only schedules whose booking window is open now, ordered by startsAt', async () => {
    const concert = await createConcert(app);
    const now = Date.now();
    const at = (hours: number) => new Date(now + hours * 3_600_000).toISOString();
    const later = await createSchedule(app, concert.id, { startsAt: at(300), seatCount: 1 });
    const sooner = await createSchedule(app, concert.id, { startsAt: at(200), seatCount: 1 });
    await createSchedule(app, concert.id, {
      bookingOpensAt: at(24),
      bookingClosesAt: at(48),
      startsAt: at(72),
      seatCount: 1,
    });
    await createSchedule(app, concert.id, {
      bookingOpensAt: at(-48),
      bookingClosesAt: at(-24),
      startsAt: at(-1),
      seatCount: 1,
    });

    const response = await getActive(`/concerts/${concert.id}/schedules`, 200);
    expect(response.body.map((s: { id: number }) => s.id)).toEqual([sooner.id, later.id]);
    expect(response.body[0]).toEqual({
      id: sooner.id,
      concertId: concert.id,
      startsAt: expect.any(String),
      bookingOpensAt: expect.any(String),
      bookingClosesAt: expect.any(String),
      totalSeats: 1,
      availableSeats: 1,
    });
  });

  it('should show an expired hold as AVAILABLE before any job has released it', async () => {
    const concert = await createConcert(app);
    const schedule = await createSchedule(app, concert.id, { seatCount: 3 });
    const [first, second] = schedule.seats;
    await sql(
      app,
      `UPDATE seats SET status = 'HELD', hold_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ?`,
      [first.id],
    );
    await sql(
      app,
      `UPDATE seats SET status = 'HELD', hold_expires_at = UTC_TIMESTAMP(3) + INTERVAL 5 MINUTE WHERE id = ?`,
      [second.id],
    );
    const seats = await getActive(`/concerts/${concert.id}/schedules/${schedule.id}/seats`, 200);
    expect(seats.body.map((s: { status: string }) => s.status)).toEqual([
      'AVAILABLE',
      'HELD',
      'AVAILABLE',
    ]);
    const schedules = await getActive(`/concerts/${concert.id}/schedules`, 200);
    expect(schedules.body[0].availableSeats).toBe(2);
  });

  it('should answer 404 CONCERT_NOT_FOUND and SCHEDULE_NOT_FOUND', async () => {
    const concert = await createConcert(app);
    const other = await createConcert(app);
    const schedule = await createSchedule(app, other.id, { seatCount: 1 });
    const missing = await getActive('/concerts/2000000000/schedules', 404);
    expect(missing.body.code).toBe('CONCERT_NOT_FOUND');
    // A schedule of another concert is not found under this concert.
    const foreign = await getActive(`/concerts/${concert.id}/schedules/${schedule.id}/seats`, 404);
    expect(foreign.body.code).toBe('SCHEDULE_NOT_FOUND');
    const admin = await request(http(app))
      .post('/admin/concerts/2000000000/schedules')
      .set('X-Admin-Key', ADMIN_KEY)
      .send({
        startsAt: '2030-01-02T00:00:00Z',
        bookingOpensAt: '2030-01-01T00:00:00Z',
        bookingClosesAt: '2030-01-01T12:00:00Z',
      })
      .expect(404);
    expect(admin.body.code).toBe('CONCERT_NOT_FOUND');
  });

  it('should answer 401 QUEUE_TOKEN_INVALID on schedules and seats without a live token', async () => {
    const concert = await createConcert(app);
    const schedule = await createSchedule(app, concert.id, { seatCount: 1 });
    const paths = [
      `/concerts/${concert.id}/schedules`,
      `/concerts/${concert.id}/schedules/${schedule.id}/seats`,
    ];
    const unknown = '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11';
    for (const path of paths) {
      for (const token of [undefined, unknown, 'not-a-token', 'x'.repeat(5000)]) {
        const call = request(http(app)).get(path).set('Authorization', bearer);
        if (token !== undefined) void call.set('Queue-Token', token);
        const response = await call.expect(401);
        expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(response.body).toMatchObject({ status: 401, code: 'QUEUE_TOKEN_INVALID' });
      }
    }
  });

  it("should answer 401 QUEUE_TOKEN_INVALID on schedules and seats with another user's ACTIVE token", async () => {
    // The token's own concert, so the only thing wrong is whose token it is.
    const schedule = await createSchedule(app, fanConcertId, { seatCount: 1 });
    const thief = await signedUpUser(app);
    const paths = [
      `/concerts/${fanConcertId}/schedules`,
      `/concerts/${fanConcertId}/schedules/${schedule.id}/seats`,
    ];
    for (const path of paths) {
      const response = await request(http(app))
        .get(path)
        .set(await authHeader(thief.id))
        .set('Queue-Token', queueToken)
        .expect(401);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 401, code: 'QUEUE_TOKEN_INVALID' });
    }
    // The owner's token is untouched by the attempt.
    for (const path of paths) await getActive(path, 200);
    const status = await request(http(app))
      .get('/queue/status')
      .set('Queue-Token', queueToken)
      .expect(200);
    expect(status.body).toMatchObject({ userId: fanId, status: 'ACTIVE' });
  });

  it('should answer 401 AUTH_TOKEN_INVALID with WWW-Authenticate on schedules and seats without a valid bearer, even with an ACTIVE token', async () => {
    const schedule = await createSchedule(app, fanConcertId, { seatCount: 1 });
    const bearers = [
      undefined,
      'Bearer ',
      `Bearer ${await accessToken(fanId, { expiresIn: -120 })}`,
      `Bearer ${await accessToken(fanId, { issuer: 'someone-else' })}`,
      `Bearer ${await accessToken('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d')}`,
    ];
    for (const path of [
      `/concerts/${fanConcertId}/schedules`,
      `/concerts/${fanConcertId}/schedules/${schedule.id}/seats`,
    ]) {
      for (const authorization of bearers) {
        const call = request(http(app)).get(path).set('Queue-Token', queueToken);
        if (authorization !== undefined) void call.set('Authorization', authorization);
        const response = await call.expect(401);
        expect(response.body).toMatchObject({ status: 401, code: 'AUTH_TOKEN_INVALID' });
        expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
      }
    }
  });

  it('should answer 403 QUEUE_TOKEN_NOT_ACTIVE on schedules and seats when the token is WAITING', async () => {
    const concert = await createConcert(app);
    const schedule = await createSchedule(app, concert.id, { seatCount: 1 });
    const user = await signedUpUser(app);
    const issued = await request(http(app))
      .post('/queue/tokens')
      .set(await authHeader(user.id))
      .send({ concertId: concert.id })
      .expect(201);
    expect(issued.body.status).toBe('WAITING');
    for (const path of [
      `/concerts/${concert.id}/schedules`,
      `/concerts/${concert.id}/schedules/${schedule.id}/seats`,
    ]) {
      const response = await request(http(app))
        .get(path)
        .set(await authHeader(user.id))
        .set('Queue-Token', issued.body.token)
        .expect(403);
      expect(response.body).toMatchObject({ status: 403, code: 'QUEUE_TOKEN_NOT_ACTIVE' });
    }
  });

  it('should reject admin calls without the right key, in constant shape', async () => {
    for (const key of [undefined, 'wrong', `${ADMIN_KEY}x`, '']) {
      const call = request(http(app)).post('/admin/concerts').send({ title: 'x' });
      if (key !== undefined) void call.set('X-Admin-Key', key);
      const response = await call.expect(401);
      expect(response.body.code).toBe('ADMIN_KEY_INVALID');
    }
  });

  it('should serve liveness, readiness and the OpenAPI document', async () => {
    await request(http(app)).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(http(app)).get('/health/ready').expect(200);
    expect(ready.body.details).toMatchObject({ mysql: { status: 'up' }, redis: { status: 'up' } });
    const docs = await request(http(app)).get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/users',
        '/users/{userId}',
        '/auth/tokens',
        '/concerts',
        '/queue/tokens',
        '/queue/status',
        '/admin/concerts/{concertId}/schedules',
      ]),
    );
    const seatErrors =
      docs.body.paths['/concerts/{concertId}/schedules/{scheduleId}/seats'].get.responses;
    expect(Object.keys(seatErrors)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '500', '503']),
    );
    await request(http(app)).get('/docs').expect(200);
  });

  it('should echo a sane X-Request-Id and make one up otherwise', async () => {
    const echoed = await request(http(app))
      .get('/health/live')
      .set('X-Request-Id', 'abc-123')
      .expect(200);
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const fresh = await request(http(app))
      .get('/health/live')
      .set('X-Request-Id', 'bad id with spaces and /slashes/')
      .expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
