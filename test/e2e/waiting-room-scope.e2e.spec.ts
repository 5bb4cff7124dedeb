import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { ADMIN_KEY, sql, startApp } from '../support/app';
import { call, charge } from '../support/booking';
import { activeTokenFor } from '../support/queue';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * An ACTIVE token of concert A grants A only: every [active token] endpoint answers 403
 * QUEUE_TOKEN_OTHER_CONCERT for another concert's schedules, seats, holds and payments, and
 * changes nothing. The same user with a token of that other concert gets through.
 */
describe('waiting-room scope (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ QUEUE_MAX_ACTIVE_USERS: '1000', QUEUE_ADMIT_PER_SECOND: '1000' });
  });

  afterAll(async () => {
    await app.close();
  });

  const expectOtherConcert = (reply: { status: number; body: { code?: string } }) => {
    expectProblem(reply, 403, 'QUEUE_TOKEN_OTHER_CONCERT');
  };

  it('should answer 403 QUEUE_TOKEN_OTHER_CONCERT on every scoped endpoint of another concert, and change nothing', async () => {
    const a = await createConcertWithSchedule(app, { seatCount: 3 });
    const b = await createConcertWithSchedule(app, { seatCount: 3 });
    const fan = await signedUpUser(app);
    await charge(app, fan.id, 500_000);
    // One user waits in two rooms at once, with one token each.
    const tokenA = await activeTokenFor(app, fan.id, a.concertId);
    const tokenB = await activeTokenFor(app, fan.id, b.concertId);
    expect(tokenA).not.toBe(tokenB);
    const asA = { user: fan.id, token: tokenA };
    const asB = { user: fan.id, token: tokenB };
    const [seatB1, seatB2] = b.schedule.seats;
    const heldB = await call(app, 'POST', '/reservations', {
      ...asB,
      body: { scheduleId: b.schedule.id, seatId: seatB1.id },
    });
    expect(heldB.status).toBe(201);

    expectOtherConcert(await call(app, 'GET', `/concerts/${b.concertId}/schedules`, asA));
    expectOtherConcert(
      await call(app, 'GET', `/concerts/${b.concertId}/schedules/${b.schedule.id}/seats`, asA),
    );
    expectOtherConcert(
      await call(app, 'POST', '/reservations', {
        ...asA,
        body: { scheduleId: b.schedule.id, seatId: seatB2.id },
      }),
    );
    expectOtherConcert(await call(app, 'GET', `/reservations/${heldB.body.id}`, asA));
    expectOtherConcert(await call(app, 'DELETE', `/reservations/${heldB.body.id}`, asA));
    expectOtherConcert(
      await call(app, 'POST', '/payments', {
        ...asA,
        body: { reservationIds: [heldB.body.id] },
        headers: { 'idempotency-key': 'scope-attempt-1' },
      }),
    );
    // No way round through the path: A's schedule under B's path (or B's under A's) is simply
    // not that concert's schedule.
    for (const path of [
      `/concerts/${b.concertId}/schedules/${a.schedule.id}/seats`,
      `/concerts/${a.concertId}/schedules/${b.schedule.id}/seats`,
    ]) {
      const reply = await call(app, 'GET', path, asA);
      expectProblem(reply, 404, 'SCHEDULE_NOT_FOUND');
    }

    // Nothing changed: B's hold stands, no second hold, no payment, tokens still ACTIVE.
    const rows = await sql(app, 'SELECT seat_id, status FROM reservations WHERE user_id = ?', [
      fan.id,
    ]);
    expect(rows).toEqual([{ seat_id: seatB1.id, status: 'HELD' }]);
    expect(await sql(app, 'SELECT id FROM payments WHERE user_id = ?', [fan.id])).toEqual([]);
    expect((await call(app, 'GET', '/queue/status', { token: tokenA })).body.status).toBe('ACTIVE');

    // Each token works on its own concert.
    expect((await call(app, 'GET', `/concerts/${a.concertId}/schedules`, asA)).status).toBe(200);
    expect((await call(app, 'GET', `/reservations/${heldB.body.id}`, asB)).status).toBe(200);
    const paid = await call(app, 'POST', '/payments', {
      ...asB,
      body: { reservationIds: [heldB.body.id] },
      headers: { 'idempotency-key': 'scope-attempt-1' },
    });
    expect(paid.status).toBe(201);
    // Paying B retired B's token only; A's token still grants A.
    expect((await call(app, 'GET', '/queue/status', { token: tokenB })).status).toBe(401);
    const heldA = await call(app, 'POST', '/reservations', {
      ...asA,
      body: { scheduleId: a.schedule.id, seatId: a.schedule.seats[0].id },
    });
    expect(heldA.status).toBe(201);
  });

  it('should reject bad waiting-room settings with 400, unknown concerts with 404 and no key with 401', async () => {
    const { concertId } = await createConcertWithSchedule(app);
    const url = `/admin/concerts/${concertId}/waiting-room`;
    const headers = { 'x-admin-key': ADMIN_KEY };
    for (const body of [
      { maxActiveUsers: 0 },
      { admitPerSecond: 100_001 },
      { activeTtlSeconds: 9 },
      { waitingIdleSeconds: 1.5 },
      { order: 'LIFO' },
      { opensAt: 'tomorrow' },
      { opensAt: '10000-01-01T00:00:00Z' },
      { admissionStartsAt: '2030-01-01T10:00:00Z', opensAt: '2030-01-01T11:00:00Z' },
      { maxActiveUsers: '5' },
      { surprise: true },
    ]) {
      const reply = await call(app, 'PUT', url, { headers, body });
      expect({ body, status: reply.status, code: reply.body.code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await call(app, 'GET', url, { headers })).body).toMatchObject({ maxActiveUsers: 1000 });
    expect(
      (await call(app, 'PUT', '/admin/concerts/999999/waiting-room', { headers, body: {} })).body,
    ).toMatchObject({
      status: 404,
      code: 'CONCERT_NOT_FOUND',
    });
    expect(
      (await call(app, 'GET', '/admin/concerts/999999/waiting-room', { headers })).status,
    ).toBe(404);
    expect((await call(app, 'GET', url)).body).toMatchObject({
      status: 401,
      code: 'ADMIN_KEY_INVALID',
    });
    expect((await call(app, 'PUT', url, { body: { maxActiveUsers: 1 } })).status).toBe(401);
    // An empty PUT resets the room to the environment defaults.
    await call(app, 'PUT', url, { headers, body: { maxActiveUsers: 3, order: 'RANDOM_AT_START' } });
    const reset = await call(app, 'PUT', url, { headers, body: {} });
    expect(reset.body).toMatchObject({ maxActiveUsers: 1000, order: 'FIFO', opensAt: null });
  });

  it('should refuse a version 1 token (a bare UUID, no room) like any unknown token', async () => {
    const reply = await call(app, 'GET', '/queue/status', {
      token: '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11',
    });
    expectProblem(reply, 401, 'QUEUE_TOKEN_INVALID');
  });
});
