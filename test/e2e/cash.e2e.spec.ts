import { TransactionHost } from '../../src/common/database/transaction';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { CashService } from '../../src/modules/cash/domain/cash.service';
import { sql, startApp } from '../support/app';
import { accessToken } from '../support/auth';
import { assertCashInvariants, expectWallet, walletState } from '../support/cash-invariants';
import { signedInUser, SignedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * Cash over HTTP with three app instances on one MySQL and Redis, as behind a load balancer.
 * Every scenario ends with the ledger invariants.
 */
describe('cash (e2e, 3 instances)', () => {
  let apps: NestFastifyApplication[];
  let urls: string[];
  let app: NestFastifyApplication;

  beforeAll(async () => {
    apps = await Promise.all([startApp(), startApp(), startApp()]);
    urls = [];
    for (const instance of apps) {
      await instance.listen({ port: 0, host: '127.0.0.1' });
      const address = instance.getHttpServer().address() as { port: number };
      urls.push(`http://127.0.0.1:${address.port}`);
    }
    app = apps[0];
  });

  afterEach(async () => {
    await assertCashInvariants(app);
  });

  afterAll(async () => {
    await Promise.all(apps.map((instance) => instance.close()));
  });

  /** Round-robin over the instances, like a load balancer. */
  const via = (i: number) => request(urls[i % urls.length]);

  /** Each user's `Authorization` value, minted once when the user signs up. */
  const bearers = new Map<string, string>();

  async function createUser(target: NestFastifyApplication): Promise<SignedUpUser> {
    const user = await signedInUser(target);
    bearers.set(user.id, user.authorization);
    return user;
  }

  function bearerOf(userId: string): string {
    const bearer = bearers.get(userId);
    if (bearer === undefined) throw new Error(`no bearer for ${userId}`);
    return bearer;
  }

  /** GET as `caller` (with the caller's bearer token). */
  const get = (i: number, path: string, caller: string) =>
    via(i).get(path).set('Authorization', bearerOf(caller));

  /** A charge on `userId`'s wallet, sent by `caller` (the wallet's owner unless given). */
  function charge(i: number, userId: string, amount: number, key?: string, caller = userId) {
    const call = via(i)
      .post(`/users/${userId}/cash/charges`)
      .set('Authorization', bearerOf(caller))
      .send({ amount });
    return key === undefined ? call : call.set('Idempotency-Key', key);
  }

  async function chargeTo(userId: string, total: number) {
    for (let left = total, i = 0; left > 0; i++) {
      const amount = Math.min(1_000_000, left);
      await charge(i, userId, amount).expect(200);
      left -= amount;
    }
  }

  describe('balance and charges', () => {
    it('should start a new user at zero and add a charge when charging', async () => {
      const { id } = await createUser(app);
      await get(0, `/users/${id}/cash`, id).expect(200, { userId: id, balance: 0 });

      const response = await charge(1, id, 50_000).expect(200);

      expect(response.body).toEqual({ userId: id, balance: 50_000 });
      expect(response.headers['idempotent-replayed']).toBeUndefined();
      await get(2, `/users/${id}/cash`, id).expect(200, { userId: id, balance: 50_000 });
    });

    it('should answer 404 USER_NOT_FOUND for an unknown user on every cash endpoint', async () => {
      const caller = (await createUser(app)).id;
      const ghost = '0b7e6a2c-5a3f-4d8e-9c1b-2f4a6e8d0c13';
      for (const call of [
        get(0, `/users/${ghost}/cash`, caller),
        charge(1, ghost, 100, undefined, caller),
        charge(2, ghost, 100, 'ghost-key', caller),
        get(0, `/users/${ghost}/cash/history`, caller),
      ]) {
        const response = await call;
        expectProblem(response, 404, 'USER_NOT_FOUND');
      }
      await expect(
        sql(app, 'SELECT id FROM idempotency_keys WHERE user_id IN (?, ?)', [ghost, caller]),
      ).resolves.toEqual([]);
      await expect(
        sql(app, 'SELECT user_id FROM cash_wallets WHERE user_id = ?', [ghost]),
      ).resolves.toEqual([]);
      await expectWallet(app, caller, { balance: 0, entries: 0 });
    });

    it('should add up exactly when 200 charges of random amounts race on one user across 3 instances', async () => {
      const { id } = await createUser(app);
      const amounts = Array.from({ length: 200 }, () => 1 + Math.floor(Math.random() * 400_000));

      const responses = await Promise.all(amounts.map((amount, i) => charge(i, id, amount)));

      const total = amounts.reduce((sum, amount) => sum + amount, 0);
      expect(responses.map((r) => r.status)).toEqual(amounts.map(() => 200));
      // Each response is the balance right after its own charge: 200 distinct values, max = total.
      const balances = responses.map((r) => (r.body as { balance: number }).balance);
      expect(new Set(balances).size).toBe(200);
      expect(Math.max(...balances)).toBe(total);
      await expectWallet(app, id, { balance: total, entries: 200 });
      await get(1, `/users/${id}/cash`, id).expect(200, { userId: id, balance: total });
    });
  });

  describe('balance limit', () => {
    it('should answer 422 BALANCE_LIMIT_EXCEEDED and write nothing when a charge passes 100,000,000', async () => {
      const { id } = await createUser(app);
      await chargeTo(id, 99_500_000);

      const refused = await charge(0, id, 500_001);

      expectProblem(refused, 422, 'BALANCE_LIMIT_EXCEEDED');
      await expectWallet(app, id, { balance: 99_500_000, entries: 100 });
      await charge(1, id, 500_000).expect(200, { userId: id, balance: 100_000_000 });
      expect((await charge(2, id, 1)).body.code).toBe('BALANCE_LIMIT_EXCEEDED');
    });

    it('should let exactly the charges that fit succeed when 20 race near the limit', async () => {
      const { id } = await createUser(app);
      await chargeTo(id, 99_500_000);

      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => charge(i, id, 100_000)),
      );

      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.filter((s) => s === 422)).toHaveLength(15);
      for (const r of responses.filter((x) => x.status === 422)) {
        expect(r.body.code).toBe('BALANCE_LIMIT_EXCEEDED');
      }
      await expectWallet(app, id, { balance: 100_000_000, entries: 105 });
    });
  });

  describe('Idempotency-Key', () => {
    it('should charge once and replay the identical response when the same key and body are sent again', async () => {
      const { id } = await createUser(app);

      const first = await charge(0, id, 7_000, 'charge-1').expect(200);
      const second = await charge(1, id, 7_000, 'charge-1').expect(200);
      const third = await charge(2, id, 7_000, 'charge-1').expect(200);

      expect(first.body).toEqual({ userId: id, balance: 7_000 });
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      for (const replay of [second, third]) {
        expect(replay.body).toEqual(first.body);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.headers['content-type']).toBe(first.headers['content-type']);
      }
      await expectWallet(app, id, { balance: 7_000, entries: 1 });
    });

    it('should replay the balance of the first charge even after later charges', async () => {
      const { id } = await createUser(app);
      await charge(0, id, 1_000, 'early').expect(200);
      await charge(1, id, 2_000).expect(200);

      const replay = await charge(2, id, 1_000, 'early').expect(200);

      expect(replay.body).toEqual({ userId: id, balance: 1_000 });
      await get(0, `/users/${id}/cash`, id).expect(200, { userId: id, balance: 3_000 });
    });

    it('should answer 422 IDEMPOTENCY_KEY_REUSED and charge nothing when the same key comes with another body', async () => {
      const { id } = await createUser(app);
      await charge(0, id, 1_000, 'k').expect(200);

      const reused = await charge(1, id, 2_000, 'k');

      expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
      await expect(walletState(app, id)).resolves.toMatchObject({ balance: 1_000, entries: 1 });
    });

    it('should treat the same key of two users as two keys', async () => {
      const [alice, bob] = [await createUser(app), await createUser(app)];
      await charge(0, alice.id, 1_000, 'shared').expect(200, { userId: alice.id, balance: 1_000 });
      const bobs = await charge(1, bob.id, 2_000, 'shared').expect(200);
      expect(bobs.body).toEqual({ userId: bob.id, balance: 2_000 });
      expect(bobs.headers['idempotent-replayed']).toBeUndefined();
    });

    it('should charge exactly once when 30 requests with one key race across 3 instances', async () => {
      const { id } = await createUser(app);

      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => charge(i, id, 4_321, 'race')),
      );

      const fresh = responses.filter(
        (r) => r.status === 200 && r.headers['idempotent-replayed'] === undefined,
      );
      const replays = responses.filter(
        (r) => r.status === 200 && r.headers['idempotent-replayed'] === 'true',
      );
      const inProgress = responses.filter((r) => r.status === 409);
      expect(fresh).toHaveLength(1);
      expect(replays.length + inProgress.length).toBe(29);
      for (const r of replays) expect(r.body).toEqual({ userId: id, balance: 4_321 });
      for (const r of inProgress) {
        expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
        expect(r.headers['retry-after']).toBe('1');
      }
      await expectWallet(app, id, { balance: 4_321, entries: 1 });
      // Once the first has finished, every retry gets the replay.
      const late = await charge(0, id, 4_321, 'race').expect(200);
      expect(late.headers['idempotent-replayed']).toBe('true');
    });

    it('should not remember a validation failure or a refused charge under the key', async () => {
      const { id } = await createUser(app);
      await chargeTo(id, 99_999_000);

      expect((await charge(0, id, 0, 'retry-me')).status).toBe(400);
      expect((await charge(1, id, 5_000, 'retry-me')).body.code).toBe('BALANCE_LIMIT_EXCEEDED');
      await expect(
        sql(app, 'SELECT id FROM idempotency_keys WHERE user_id = ?', [id]),
      ).resolves.toEqual([]);

      const ok = await charge(2, id, 1_000, 'retry-me').expect(200);
      expect(ok.headers['idempotent-replayed']).toBeUndefined();
      expect(ok.body).toEqual({ userId: id, balance: 100_000_000 });
    });
  });

  describe('history', () => {
    it('should list signed entries newest first over pages until nextCursor is null', async () => {
      const { id } = await createUser(app);
      for (const amount of [100, 200, 300]) await charge(0, id, amount).expect(200);
      // A payment's debit as the payment facade writes it, to see a negative entry.
      await app
        .get(TransactionHost)
        .withTransaction(() => app.get(CashService).debitForPayment(id, 250, 77));
      await charge(1, id, 400).expect(200);

      const page1 = await get(0, `/users/${id}/cash/history?limit=2`, id).expect(200);
      const page2 = await get(1, `/users/${id}/cash/history`, id)
        .query({ limit: 2, cursor: page1.body.nextCursor })
        .expect(200);
      const page3 = await get(2, `/users/${id}/cash/history`, id)
        .query({ limit: 2, cursor: page2.body.nextCursor })
        .expect(200);

      const items = [...page1.body.items, ...page2.body.items, ...page3.body.items];
      expect(
        items.map((i: { type: string; amount: number; balanceAfter: number }) => [
          i.type,
          i.amount,
          i.balanceAfter,
        ]),
      ).toEqual([
        ['CHARGE', 400, 750],
        ['PAYMENT', -250, 350],
        ['CHARGE', 300, 600],
        ['CHARGE', 200, 300],
        ['CHARGE', 100, 100],
      ]);
      expect(items[1]).toMatchObject({ paymentId: 77 });
      expect(items[0]).not.toHaveProperty('paymentId');
      expect(items[0].createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(new Set(items.map((i: { id: number }) => i.id)).size).toBe(5);
      expect(typeof page1.body.nextCursor).toBe('string');
      expect(page3.body.nextCursor).toBeNull();
    });

    it('should default to 20 items and return an empty page for a fresh wallet', async () => {
      const { id } = await createUser(app);
      await get(0, `/users/${id}/cash/history`, id).expect(200, { items: [], nextCursor: null });
      await Promise.all(Array.from({ length: 21 }, (_, i) => charge(i, id, 1)));
      const page = await get(1, `/users/${id}/cash/history`, id).expect(200);
      expect(page.body.items).toHaveLength(20);
      expect(page.body.nextCursor).toEqual(expect.any(String));
    });
  });

  describe('ownership and authentication', () => {
    /** Every [user] endpoint under /users/{userId}, for one path id. */
    const endpoints = (userId: string) => [
      { method: 'GET', path: `/users/${userId}` },
      { method: 'GET', path: `/users/${userId}/cash` },
      { method: 'GET', path: `/users/${userId}/cash/history` },
      { method: 'POST', path: `/users/${userId}/cash/charges` },
      { method: 'GET', path: `/users/${userId}/payments` },
    ];

    function send(i: number, endpoint: { method: string; path: string }, authorization?: string) {
      const call =
        endpoint.method === 'GET'
          ? via(i).get(endpoint.path)
          : via(i).post(endpoint.path).send({ amount: 1_000 });
      return authorization === undefined ? call : call.set('Authorization', authorization);
    }

    it("should answer 404 USER_NOT_FOUND to B's bearer on A's user, cash, history, charges and payments, and change nothing", async () => {
      const [alice, bob] = [await createUser(app), await createUser(app)];
      await charge(0, alice.id, 5_000, 'alice-key').expect(200);
      const ghost = '7d1e9b0a-3c2f-4e5d-8a6b-1c0d2e3f4a5b';
      const ghostAnswer = (
        await send(0, { method: 'GET', path: `/users/${ghost}` }, bearerOf(bob.id))
      ).body as Record<string, unknown>;

      const answers = [];
      for (const [i, endpoint] of endpoints(alice.id).entries()) {
        answers.push(await send(i, endpoint, bearerOf(bob.id)));
      }
      answers.push(await charge(0, alice.id, 1_000, 'alice-key', bob.id));
      answers.push(await charge(1, alice.id, 1_000, 'bob-key', bob.id));

      for (const response of answers) {
        expect(response.status).toBe(404);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
        // Exactly what an id nobody has gets: no hint that Alice exists.
        expect(response.body.title).toBe(ghostAnswer.title);
        expect(response.body.detail).toBe(ghostAnswer.detail);
        expect(JSON.stringify(response.body)).not.toContain(alice.name);
        expect(JSON.stringify(response.body)).not.toContain(alice.email);
      }
      await expectWallet(app, alice.id, { balance: 5_000, entries: 1 });
      await expectWallet(app, bob.id, { balance: 0, entries: 0 });
      await expect(
        sql(app, 'SELECT user_id, idem_key FROM idempotency_keys WHERE user_id IN (?, ?)', [
          alice.id,
          bob.id,
        ]),
      ).resolves.toEqual([{ user_id: alice.id, idem_key: 'alice-key' }]);
      await get(2, `/users/${alice.id}/cash`, alice.id).expect(200, {
        userId: alice.id,
        balance: 5_000,
      });
    });

    it('should treat `me` as the caller on the user, cash, charges, history and payments', async () => {
      const [alice, bob] = [await createUser(app), await createUser(app)];

      const me = await get(0, '/users/me', alice.id).expect(200);
      expect(me.body).toEqual({
        id: alice.id,
        name: alice.name,
        email: alice.email,
        createdAt: expect.any(String),
      });
      await get(1, `/users/${alice.id}`, alice.id).expect(200, me.body);
      await get(2, '/users/me/cash', alice.id).expect(200, { userId: alice.id, balance: 0 });
      await charge(0, 'me', 1_234, 'via-me', alice.id).expect(200, {
        userId: alice.id,
        balance: 1_234,
      });
      const history = await get(1, '/users/me/cash/history', alice.id).expect(200);
      expect(history.body.items).toEqual([
        expect.objectContaining({ type: 'CHARGE', amount: 1_234, balanceAfter: 1_234 }),
      ]);
      await get(2, '/users/me/payments', alice.id).expect(200, []);
      // `me` is whoever sends the bearer: Bob's `me` is Bob.
      await get(0, '/users/me/cash', bob.id).expect(200, { userId: bob.id, balance: 0 });
      await get(1, '/users/me', bob.id).expect(200);
      await expectWallet(app, alice.id, { balance: 1_234, entries: 1 });
      await expect(walletState(app, bob.id)).resolves.toMatchObject({ balance: 0, entries: 0 });
    });

    it('should answer 401 AUTH_TOKEN_INVALID with WWW-Authenticate: Bearer and change nothing without a valid bearer', async () => {
      const alice = await createUser(app);
      await charge(0, alice.id, 2_000).expect(200);
      const notAUser = '2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d';
      const badBearers: (string | undefined)[] = [
        undefined,
        '',
        `Basic ${Buffer.from('alice:password').toString('base64')}`,
        'Bearer',
        'Bearer not-a-jwt',
        `Bearer ${await accessToken(alice.id, { expiresIn: -120 })}`,
        `Bearer ${await accessToken(alice.id, { secret: 'another-secret-of-at-least-32-characters' })}`,
        `Bearer ${await accessToken(alice.id, { audience: 'someone-else' })}`,
        `Bearer ${await accessToken(notAUser)}`,
      ];

      let i = 0;
      for (const endpoint of [...endpoints(alice.id), ...endpoints('me')]) {
        for (const authorization of badBearers) {
          const response = await send(i++, endpoint, authorization);
          expect({ endpoint, authorization, status: response.status }).toEqual({
            endpoint,
            authorization,
            status: 401,
          });
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.body).toMatchObject({ status: 401, code: 'AUTH_TOKEN_INVALID' });
          expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
        }
      }
      await expectWallet(app, alice.id, { balance: 2_000, entries: 1 });
      await expect(
        sql(app, 'SELECT user_id FROM cash_wallets WHERE user_id = ?', [notAUser]),
      ).resolves.toEqual([]);
    });
  });

  describe('operations', () => {
    it('should count charges and charged KRW in /metrics, not counting replays', async () => {
      const { id } = await createUser(app);
      const before = await scrape();
      await charge(0, id, 1_234, 'metric').expect(200);
      await charge(0, id, 1_234, 'metric').expect(200);
      const after = await scrape();
      expect(after.charges - before.charges).toBe(1);
      expect(after.krw - before.krw).toBe(1_234);
    });

    it('should document every status and code of the cash endpoints in OpenAPI', async () => {
      const doc = (await via(0).get('/docs-json').expect(200)).body as {
        paths: Record<
          string,
          Record<string, { responses: Record<string, unknown>; security?: unknown }>
        >;
      };
      const codes = (path: string, method: string) =>
        JSON.stringify(doc.paths[path][method].responses);
      expect(Object.keys(doc.paths['/users/{userId}/cash/charges'].post.responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '404',
        '409',
        '413',
        '415',
        '422',
        '429',
        '500',
        '503',
      ]);
      for (const code of [
        'BALANCE_LIMIT_EXCEEDED',
        'IDEMPOTENCY_KEY_REUSED',
        'IDEMPOTENCY_KEY_IN_PROGRESS',
        'USER_NOT_FOUND',
        'VALIDATION_FAILED',
        'AUTH_TOKEN_INVALID',
        'RATE_LIMITED',
      ]) {
        expect(codes('/users/{userId}/cash/charges', 'post')).toContain(code);
      }
      expect(codes('/users/{userId}/cash', 'get')).toContain('USER_NOT_FOUND');
      expect(codes('/users/{userId}/cash/history', 'get')).toContain('VALIDATION_FAILED');
      for (const [path, method] of [
        ['/users/{userId}/cash', 'get'],
        ['/users/{userId}/cash/charges', 'post'],
        ['/users/{userId}/cash/history', 'get'],
      ]) {
        expect(codes(path, method)).toContain('AUTH_TOKEN_INVALID');
        expect(doc.paths[path][method].security).toEqual([{ bearer: [] }]);
      }
    });

    async function scrape(): Promise<{ charges: number; krw: number }> {
      const text = (await via(0).get('/metrics').expect(200)).text;
      const value = (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
      return { charges: value('cash_charges_total'), krw: value('cash_charged_krw_total') };
    }
  });
});
