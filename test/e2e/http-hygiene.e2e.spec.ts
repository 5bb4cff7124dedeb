import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ADMIN_KEY, http, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { signedUpUser } from '../factories/user.factory';

describe('HTTP hygiene (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('should answer 400 MALFORMED_REQUEST, not 500, to a body nested 2,400 levels deep', async () => {
    const user = await signedUpUser(app);
    for (const [path, body] of [
      ['/users', `{"name":${nested(2400)}}`],
      ['/auth/tokens', nested(2400)],
      ['/payments', `{"reservationIds":${nested(2400)}}`],
      [`/users/${user.id}/cash/charges`, `{"amount":${nested(2400)}}`],
    ] as const) {
      const response = await request(http(app))
        .post(path)
        .set(await authHeader(user.id))
        .set('Content-Type', 'application/json')
        .send(body);
      expect({
        path,
        status: response.status,
        code: (response.body as { code?: string }).code,
      }).toEqual({
        path,
        status: 400,
        code: 'MALFORMED_REQUEST',
      });
    }
  });

  it('should let a body nested within the limit reach validation (400 VALIDATION_FAILED)', async () => {
    const response = await request(http(app))
      .post('/users')
      .set('Content-Type', 'application/json')
      .send(`{"name":${nested(31)},"email":"a@b.test","password":"password-123"}`);
    expect(response.status).toBe(400);
    expect((response.body as { code: string }).code).toBe('VALIDATION_FAILED');
  });

  it('should answer 415 UNSUPPORTED_MEDIA_TYPE to a text/plain body', async () => {
    const response = await request(http(app))
      .post('/auth/tokens')
      .set('Content-Type', 'text/plain')
      .send('{"email":"a@b.test","password":"x"}');
    expect(response.status).toBe(415);
    expect((response.body as { code: string }).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('should send nosniff and no-store on personal data and on errors', async () => {
    const user = await signedUpUser(app);
    const mine = await request(http(app))
      .get('/users/me/cash')
      .set(await authHeader(user.id))
      .expect(200);
    const refused = await request(http(app)).get('/users/me/cash').expect(401);
    for (const response of [mine, refused]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it('should answer readiness without driver text', async () => {
    const response = await request(http(app)).get('/health/ready').expect(200);
    expect(JSON.stringify(response.body)).not.toMatch(/ECONN|Error|127\.0\.0\.1/);
  });

  it('should answer 400 VALIDATION_FAILED to schedule dates after 9999 (with a zone offset) or before 2000', async () => {
    const concert = await request(http(app))
      .post('/admin/concerts')
      .set('X-Admin-Key', ADMIN_KEY)
      .send({ title: 'Date bounds' })
      .expect(201);
    const path = `/admin/concerts/${(concert.body as { id: number }).id}/schedules`;
    for (const dates of [
      {
        startsAt: '9999-12-31T23:00:00-05:00',
        bookingOpensAt: '2030-01-01T00:00:00Z',
        bookingClosesAt: '2030-01-02T00:00:00Z',
      },
      {
        startsAt: '2030-01-03T00:00:00Z',
        bookingOpensAt: '1999-12-31T23:59:59Z',
        bookingClosesAt: '2030-01-02T00:00:00Z',
      },
    ]) {
      const response = await request(http(app))
        .post(path)
        .set('X-Admin-Key', ADMIN_KEY)
        .send(dates);
      expect(response.status).toBe(400);
      expect((response.body as { code: string }).code).toBe('VALIDATION_FAILED');
    }
  });
});
