import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ADMIN_KEY, http, sql, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { aUser } from '../factories/user.factory';

// "Café" spelt with a combining accent (NFD) and with the precomposed letter (NFC).
const DECOMPOSED = 'Cafe\u0301 Kim';
const COMPOSED = 'Caf\u00e9 Kim';

describe('names (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('should store and return a user name in NFC when it is sent decomposed', async () => {
    const response = await request(http(app))
      .post('/users')
      .send(aUser({ name: DECOMPOSED }))
      .expect(201);
    const { id } = response.body as { id: string; name: string };

    expect(response.body.name).toBe(COMPOSED);
    const me = await request(http(app))
      .get('/users/me')
      .set(await authHeader(id))
      .expect(200);
    expect(me.body.name).toBe(COMPOSED);
    const rows = await sql<{ name: string }[]>(app, 'SELECT name FROM users WHERE id = ?', [id]);
    expect(rows[0].name).toBe(COMPOSED);
  });

  it('should count the length limit on the NFC form when a 50-letter name is sent decomposed', async () => {
    // 100 UTF-16 units as sent, 50 letters once composed: within the limit.
    const name = 'e\u0301'.repeat(50);
    const response = await request(http(app)).post('/users').send(aUser({ name })).expect(201);
    expect(response.body.name).toBe('\u00e9'.repeat(50));
  });

  it('should store a concert title and performer in NFC when they are sent decomposed', async () => {
    const response = await request(http(app))
      .post('/admin/concerts')
      .set('X-Admin-Key', ADMIN_KEY)
      .send({ title: `${DECOMPOSED} Live`, performer: DECOMPOSED })
      .expect(201);

    expect(response.body).toMatchObject({ title: `${COMPOSED} Live`, performer: COMPOSED });
  });

  it.each([
    ['a bidi override in the title', { title: 'Tour \u202Eevil' }, 'title'],
    ['a zero-width space in the title', { title: 'Tour\u200B2026' }, 'title'],
    ['a control character in the performer', { title: 'Tour', performer: 'IU\u0007' }, 'performer'],
  ])('should answer 400 VALIDATION_FAILED when a concert has %s', async (_case, body, field) => {
    const response = await request(http(app))
      .post('/admin/concerts')
      .set('X-Admin-Key', ADMIN_KEY)
      .send(body)
      .expect(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
  });
});
