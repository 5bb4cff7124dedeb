import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { http, sql, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { assertCashInvariants, walletState } from '../support/cash-invariants';
import { signedUpUser } from '../factories/user.factory';

/** Every cash endpoint refuses bad input with problem+json, a stable code, and no effect. */
describe('cash bad input (e2e)', () => {
  let app: NestFastifyApplication;
  let userId: string;
  /** The `Authorization` value of `userId`. */
  let bearer: string;

  beforeAll(async () => {
    app = await startApp();
    userId = (await signedUpUser(app)).id;
    bearer = (await authHeader(userId)).authorization;
    await request(http(app))
      .post(`/users/${userId}/cash/charges`)
      .set('Authorization', bearer)
      .send({ amount: 1_000 })
      .expect(200);
  });

  afterAll(async () => {
    await app.close();
  });

  function expectProblem(response: request.Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, code, type: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+|SELECT|UPDATE|ER_/);
  }

  describe('POST /users/{userId}/cash/charges', () => {
    const charge = () =>
      request(http(app)).post(`/users/${userId}/cash/charges`).set('Authorization', bearer);

    it.each([
      ['unknown field', { amount: 1, currency: 'KRW' }, 'currency'],
      ['missing amount', {}, 'amount'],
      ['amount as a string', { amount: '100' }, 'amount'],
      ['amount as a float', { amount: 1.5 }, 'amount'],
      ['amount zero', { amount: 0 }, 'amount'],
      ['negative amount', { amount: -100 }, 'amount'],
      ['amount above 1,000,000', { amount: 1_000_001 }, 'amount'],
      ['amount far out of range', { amount: 1e20 }, 'amount'],
      ['amount null', { amount: null }, 'amount'],
      ['amount as an array', { amount: [100] }, 'amount'],
      ['amount as a boolean', { amount: true }, 'amount'],
    ])('should answer 400 VALIDATION_FAILED for %s', async (_case, body, field) => {
      const response = await charge().set('Idempotency-Key', 'bad-body').send(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
    });

    it('should answer 400 MALFORMED_REQUEST for broken JSON', async () => {
      const response = await charge().set('Content-Type', 'application/json').send('{"amount":');
      expectProblem(response, 400, 'MALFORMED_REQUEST');
    });

    it('should answer 400 for a JSON array or scalar body', async () => {
      for (const body of ['[]', '5', 'null']) {
        const response = await charge().set('Content-Type', 'application/json').send(body);
        expect(response.status).toBe(400);
      }
    });

    it('should answer 415 UNSUPPORTED_MEDIA_TYPE for an XML body', async () => {
      const response = await charge().set('Content-Type', 'text/xml').send('<amount>1</amount>');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('should answer 413 PAYLOAD_TOO_LARGE above 64 KiB', async () => {
      const response = await charge()
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ amount: 1, pad: 'x'.repeat(70 * 1024) }));
      expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('should check the bearer token before the body and the Idempotency-Key', async () => {
      const response = await request(http(app))
        .post(`/users/${userId}/cash/charges`)
        .set('Idempotency-Key', 'two words')
        .send({ amount: -1, bogus: true });
      expectProblem(response, 401, 'AUTH_TOKEN_INVALID');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expect(response.body.errors).toBeUndefined();
    });

    it.each([
      ['65 characters', 'k'.repeat(65)],
      ['empty', ''],
      ['containing a space', 'two words'],
      ['containing a tab', 'tab\there'],
    ])('should answer 400 VALIDATION_FAILED for an Idempotency-Key %s', async (_case, key) => {
      const response = await charge().set('Idempotency-Key', key).send({ amount: 1 });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    });

    it('should accept an Idempotency-Key of exactly 64 characters', async () => {
      const other = (await signedUpUser(app)).id;
      await request(http(app))
        .post(`/users/${other}/cash/charges`)
        .set(await authHeader(other))
        .set('Idempotency-Key', 'k'.repeat(64))
        .send({ amount: 5 })
        .expect(200, { userId: other, balance: 5 });
    });
  });

  describe('GET /users/{userId}/cash/history', () => {
    const history = (query: string) =>
      request(http(app)).get(`/users/${userId}/cash/history${query}`).set('Authorization', bearer);

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1e1', 'limit'],
      ['limit=', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['cursor=!!!', 'cursor'],
      ['cursor=abc', 'cursor'],
      [`cursor=${Buffer.from('v1.0').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('v1.12 ').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('v2.12').toString('base64url')}`, 'cursor'],
      [`cursor=${'A'.repeat(65)}`, 'cursor'],
      ['cursor=a&cursor=b', 'cursor'],
      ['page=2', 'page'],
    ])('should answer 400 VALIDATION_FAILED for ?%s', async (query, field) => {
      const response = await history(`?${query}`);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(expect.objectContaining({ field }));
    });

    it('should accept limit=1 and limit=100', async () => {
      expect((await history('?limit=1')).body).toEqual({
        items: [expect.any(Object)],
        nextCursor: null,
      });
      expect((await history('?limit=100')).status).toBe(200);
    });
  });

  describe('path ids', () => {
    it.each([
      ['GET', '/users/not-a-uuid/cash'],
      ['POST', '/users/not-a-uuid/cash/charges'],
      ['GET', '/users/12345/cash/history'],
      ['GET', '/users/5b0f3b1e8a3c4a579a1e2f0d6c8b9e11/cash'],
      ['POST', '/users/me%20/cash/charges'],
      ['POST', `/users/{${'5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11'}}/cash/charges`],
    ])('should answer 400 VALIDATION_FAILED for %s %s', async (method, path) => {
      const call =
        method === 'GET'
          ? request(http(app)).get(path)
          : request(http(app)).post(path).send({ amount: 1 });
      const response = await call.set('Authorization', bearer);
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'userId' })]);
    });
  });

  describe('charges on a path that is not the caller', () => {
    it.each([
      ['another user', 'other'],
      ['a user nobody has', 'ghost'],
    ])(
      'should answer 404 USER_NOT_FOUND and write no ledger row for a charge on %s',
      async (_case, whose) => {
        const other = (await signedUpUser(app)).id;
        const target = whose === 'other' ? other : '4e2a0c8d-6b1f-4d3e-9a5c-7b9d1f3e5a7c';
        const ledgerBefore = await sql(app, 'SELECT id FROM cash_history ORDER BY id');

        for (const key of [undefined, 'wrong-path']) {
          const call = request(http(app))
            .post(`/users/${target}/cash/charges`)
            .set('Authorization', bearer);
          if (key !== undefined) void call.set('Idempotency-Key', key);
          const response = await call.send({ amount: 777 });
          expect(response.status).toBe(404);
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          // Not expectProblem: its leak check's /ER_/ would match the code USER_NOT_FOUND itself.
          expect(response.body).toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
        }

        await expect(sql(app, 'SELECT id FROM cash_history ORDER BY id')).resolves.toEqual(
          ledgerBefore,
        );
        await expect(walletState(app, other)).resolves.toEqual({
          balance: 0,
          ledgerSum: 0,
          entries: 0,
        });
        await expect(
          sql(app, 'SELECT id FROM idempotency_keys WHERE user_id IN (?, ?, ?)', [
            userId,
            other,
            target,
          ]),
        ).resolves.toEqual([]);
        await expect(
          sql(app, 'SELECT user_id FROM cash_wallets WHERE user_id = ?', [target]),
        ).resolves.toEqual(whose === 'other' ? [{ user_id: other }] : []);
      },
    );
  });

  // Runs last (Jest keeps declaration order): none of the requests above may have had an effect.
  it('should have moved no money and remembered no key when all of the above were refused', async () => {
    await expect(walletState(app, userId)).resolves.toEqual({
      balance: 1_000,
      ledgerSum: 1_000,
      entries: 1,
    });
    await expect(
      sql(app, 'SELECT id FROM idempotency_keys WHERE user_id = ?', [userId]),
    ).resolves.toEqual([]);
    await assertCashInvariants(app);
  });
});
