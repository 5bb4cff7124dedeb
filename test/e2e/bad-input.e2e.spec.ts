import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import request from 'supertest';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { createConcert } from '../factories/catalogue.factory';
import { ADMIN_KEY, http, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { activeTokenFor } from '../support/queue';
import { signedUpUser } from '../factories/user.factory';

/**
 * Every endpoint of the foundation rejects bad input with a 4xx problem+json and a stable code,
 * and never leaks internals.
 */
describe('bad input (e2e)', () => {
  let app: NestFastifyApplication;
  let concertId: number;
  let queueToken: string;
  let fanAuth: { authorization: string };

  beforeAll(async () => {
    app = await startApp();
    concertId = (await createConcert(app)).id;
    const fanId = (await signedUpUser(app)).id;
    fanAuth = await authHeader(fanId);
    queueToken = await activeTokenFor(app, fanId, concertId);
  });

  afterAll(async () => {
    await app.close();
  });

  function expectProblem(response: request.Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status,
      code,
      type: expect.any(String),
      title: expect.any(String),
    });
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT|ER_/);
  }

  const validWindow = {
    startsAt: '2030-01-02T00:00:00Z',
    bookingOpensAt: '2030-01-01T00:00:00Z',
    bookingClosesAt: '2030-01-01T12:00:00Z',
  };

  describe('POST /users', () => {
    it.each([
      ['unknown field', { name: 'a', admin: true }, 'admin'],
      ['missing name', {}, 'name'],
      ['wrong type', { name: 42 }, 'name'],
      ['empty name', { name: '' }, 'name'],
      ['blank name', { name: '   ' }, 'name'],
      ['name too long', { name: 'x'.repeat(51) }, 'name'],
      ['missing email', { name: 'a', password: 'password-123' }, 'email'],
      [
        'email too long',
        { name: 'a', email: `${'x'.repeat(250)}@b.co`, password: 'password-123' },
        'email',
      ],
      ['password too short', { name: 'a', email: 'a@b.test', password: 'short' }, 'password'],
      ['numeric password', { name: 'a', email: 'a@b.test', password: 12345678 }, 'password'],
    ])('should answer 400 VALIDATION_FAILED for %s', async (_case, body, field) => {
      const response = await request(http(app)).post('/users').send(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
    });

    it('should answer 400 MALFORMED_REQUEST for broken JSON', async () => {
      const response = await request(http(app))
        .post('/users')
        .set('Content-Type', 'application/json')
        .send('{"name": ');
      expectProblem(response, 400, 'MALFORMED_REQUEST');
    });

    it('should answer 400 for a JSON array or scalar body', async () => {
      for (const body of ['[]', '"name"', 'null']) {
        const response = await request(http(app))
          .post('/users')
          .set('Content-Type', 'application/json')
          .send(body);
        expect(response.status).toBe(400);
        expect(['VALIDATION_FAILED', 'MALFORMED_REQUEST']).toContain(response.body.code);
      }
    });

    it('should answer 413 PAYLOAD_TOO_LARGE above 64 KiB', async () => {
      const response = await request(http(app))
        .post('/users')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(70 * 1024) }));
      expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('should answer 415 UNSUPPORTED_MEDIA_TYPE for a form-encoded body', async () => {
      const response = await request(http(app))
        .post('/users')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('name=Kim');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('should answer 415 UNSUPPORTED_MEDIA_TYPE for a non-JSON body', async () => {
      const response = await request(http(app))
        .post('/users')
        .set('Content-Type', 'text/xml')
        .send('<a/>');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('path ids', () => {
    it.each([
      ['/users/not-a-uuid', 'userId'],
      ['/users/5b0f3b1e8a3c4a579a1e2f0d6c8b9e11', 'userId'],
      ['/concerts/abc/schedules', 'concertId'],
      ['/concerts/0/schedules', 'concertId'],
      ['/concerts/-1/schedules', 'concertId'],
      ['/concerts/1.5/schedules', 'concertId'],
      ['/concerts/99999999999/schedules', 'concertId'],
      ['/concerts/1/schedules/x/seats', 'scheduleId'],
      ['/concerts/1e3/schedules', 'concertId'],
      ['/concerts/0x10/schedules', 'concertId'],
      ['/concerts/+1/schedules', 'concertId'],
      ['/concerts/01/schedules', 'concertId'],
      ['/concerts/%201/schedules', 'concertId'],
    ])('should answer 400 VALIDATION_FAILED for GET %s', async (path, field) => {
      // The catalogue paths need a bearer and an ACTIVE token (the guards run before the pipes).
      const response = await request(http(app))
        .get(path)
        .set(fanAuth)
        .set('Queue-Token', queueToken);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([expect.objectContaining({ field })]);
    });

    it('should answer 401 QUEUE_TOKEN_INVALID before validating ids when the token is missing', async () => {
      for (const path of ['/concerts/abc/schedules', '/concerts/1/schedules/x/seats']) {
        expectProblem(await request(http(app)).get(path).set(fanAuth), 401, 'QUEUE_TOKEN_INVALID');
      }
    });

    it('should answer 401 AUTH_TOKEN_INVALID before anything else when the bearer is missing', async () => {
      for (const path of ['/concerts/abc/schedules', '/users/not-a-uuid', '/users/me/cash']) {
        const response = await request(http(app)).get(path).set('Queue-Token', queueToken);
        expectProblem(response, 401, 'AUTH_TOKEN_INVALID');
      }
    });

    it('should answer 404 ROUTE_NOT_FOUND for an unknown route', async () => {
      expectProblem(await request(http(app)).get('/nothing/here'), 404, 'ROUTE_NOT_FOUND');
    });
  });

  describe('queue', () => {
    it.each([
      ['unknown field', { concertId: 1, vip: true }, 'vip'],
      [
        'a userId (the caller comes from the bearer only)',
        { concertId: 1, userId: '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11' },
        'userId',
      ],
      ['missing concertId', {}, 'concertId'],
      ['string concertId', { concertId: '1' }, 'concertId'],
      ['zero concertId', { concertId: 0 }, 'concertId'],
      ['fractional concertId', { concertId: 1.5 }, 'concertId'],
      ['huge concertId', { concertId: 2 ** 31 }, 'concertId'],
    ])(
      'should answer 400 VALIDATION_FAILED on POST /queue/tokens for %s',
      async (_case, body, field) => {
        const response = await request(http(app))
          .post('/queue/tokens')
          .set(await authHeader((await signedUpUser(app)).id))
          .send(body);
        expectProblem(response, 400, 'VALIDATION_FAILED');
        expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
      },
    );

    it('should answer 404 CONCERT_NOT_FOUND on POST /queue/tokens for an unknown concert', async () => {
      const response = await request(http(app))
        .post('/queue/tokens')
        .set(await authHeader((await signedUpUser(app)).id))
        .send({ concertId: 2_000_000_000 })
        .expect(404)
        .expect('Content-Type', /application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 404, code: 'CONCERT_NOT_FOUND' });
    });

    describe('attacks on POST /queue/tokens', () => {
      const issue = async (callerId: string, body: object) =>
        request(http(app))
          .post('/queue/tokens')
          .set(await authHeader(callerId))
          .send(body);

      /** What the queue holds for these users, and how many tokens it has issued so far. */
      async function queueState(userIds: string[]) {
        const redis = app.get(Redis);
        const metrics = (await request(http(app)).get('/metrics').expect(200)).text;
        return {
          tokensOfUsers: await Promise.all(
            userIds.map((id) => redis.hget(roomKeys(concertId).users, id)),
          ),
          liveTokens: await redis.hlen(roomKeys(concertId).owners),
          issued: Number(/^queue_tokens_issued_total (\S+)$/m.exec(metrics)?.[1] ?? 'NaN'),
        };
      }

      it("should answer 400 VALIDATION_FAILED and issue no token when the body names another user's userId", async () => {
        const [attacker, victim] = [await signedUpUser(app), await signedUpUser(app)];
        const before = await queueState([attacker.id, victim.id]);
        expect(before.tokensOfUsers).toEqual([null, null]);

        for (const body of [
          { concertId, userId: victim.id },
          { concertId, userId: attacker.id },
          { userId: victim.id },
        ]) {
          const response = await issue(attacker.id, body);
          expectProblem(response, 400, 'VALIDATION_FAILED');
          expect(response.body.errors).toContainEqual(expect.objectContaining({ field: 'userId' }));
        }

        await expect(queueState([attacker.id, victim.id])).resolves.toEqual(before);
        // Neither holds a token: each one's first real request gets a new one (201), its own.
        const victims = await issue(victim.id, { concertId });
        const attackers = await issue(attacker.id, { concertId });
        expect([victims.status, attackers.status]).toEqual([201, 201]);
        expect(victims.body.userId).toBe(victim.id);
        expect(attackers.body.userId).toBe(attacker.id);
        expect(attackers.body.token).not.toBe(victims.body.token);
      });

      it('should answer 404 CONCERT_NOT_FOUND and issue no token for a concert that does not exist', async () => {
        const fan = await signedUpUser(app);
        const before = await queueState([fan.id]);

        for (const unknown of [2_000_000_000, 2_147_483_647, concertId + 1_000_000]) {
          const response = await issue(fan.id, { concertId: unknown });
          expect(response.status).toBe(404);
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.body).toMatchObject({ status: 404, code: 'CONCERT_NOT_FOUND' });
        }

        await expect(queueState([fan.id])).resolves.toEqual(before);
        expect(before.tokensOfUsers).toEqual([null]);
        expect((await issue(fan.id, { concertId })).status).toBe(201);
      });

      it('should answer 401 AUTH_TOKEN_INVALID before reading the body when the bearer is missing', async () => {
        const before = await queueState([]);
        for (const body of [{ concertId }, { userId: '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11' }]) {
          const response = await request(http(app)).post('/queue/tokens').send(body);
          expectProblem(response, 401, 'AUTH_TOKEN_INVALID');
          expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
        }
        await expect(queueState([])).resolves.toEqual(before);
      });
    });

    it.each([
      ['missing', undefined],
      ['malformed', 'abc'],
      ['over-long', 'a'.repeat(8000)],
      ['odd characters', '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e1;'],
      ['unknown', '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ])(
      'should answer 401 QUEUE_TOKEN_INVALID on GET /queue/status for a %s token',
      async (_case, token) => {
        const call = request(http(app)).get('/queue/status');
        if (token !== undefined) void call.set('Queue-Token', token);
        expectProblem(await call, 401, 'QUEUE_TOKEN_INVALID');
      },
    );
  });

  describe('POST /admin/concerts', () => {
    it.each([
      ['unknown field', { title: 'a', price: 1 }, 'price'],
      ['missing title', { performer: 'x' }, 'title'],
      ['title too long', { title: 'x'.repeat(201) }, 'title'],
      ['performer wrong type', { title: 'a', performer: 7 }, 'performer'],
    ])('should answer 400 VALIDATION_FAILED for %s', async (_case, body, field) => {
      const response = await request(http(app))
        .post('/admin/concerts')
        .set('X-Admin-Key', ADMIN_KEY)
        .send(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
    });

    it('should check the admin key before the body', async () => {
      const response = await request(http(app)).post('/admin/concerts').send({ bogus: true });
      expectProblem(response, 401, 'ADMIN_KEY_INVALID');
    });
  });

  describe('POST /admin/concerts/{id}/schedules', () => {
    it.each([
      ['seatCount 0', { seatCount: 0 }, 'seatCount'],
      ['seatCount 501', { seatCount: 501 }, 'seatCount'],
      ['seatCount fractional', { seatCount: 1.5 }, 'seatCount'],
      ['seatCount as string', { seatCount: '10' }, 'seatCount'],
      ['negative price', { price: -1 }, 'price'],
      ['price too high', { price: 10_000_001 }, 'price'],
      ['prices with a string', { seatCount: 2, prices: [1, 'x'] }, 'prices'],
      ['prices of the wrong length', { seatCount: 3, prices: [1, 2] }, 'prices'],
      ['date without zone', { startsAt: '2030-01-02T00:00:00' }, 'startsAt'],
      ['date as number', { bookingOpensAt: 1_700_000_000_000 }, 'bookingOpensAt'],
      ['impossible date', { startsAt: '2030-02-31T00:00:00Z' }, 'startsAt'],
      [
        'window closing before it opens',
        { bookingClosesAt: '2029-12-31T00:00:00Z' },
        'bookingClosesAt',
      ],
      ['unknown field', { venue: 'Olympic Hall' }, 'venue'],
    ])('should answer 400 VALIDATION_FAILED for %s', async (_case, overrides, field) => {
      const response = await request(http(app))
        .post(`/admin/concerts/${concertId}/schedules`)
        .set('X-Admin-Key', ADMIN_KEY)
        .send({ ...validWindow, ...overrides });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
    });
  });
});
