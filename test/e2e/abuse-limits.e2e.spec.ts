import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { http, sql, startApp } from '../support/app';
import { call, tally } from '../support/booking';
import request from 'supertest';
import { storedUsers } from '../factories/user.factory';

const signUpBody = () => ({
  name: 'Limit Tester',
  email: `limit-${randomUUID()}@example.test`,
  password: 'password-123',
});

describe('Abuse limits across instances (e2e)', () => {
  describe('sign-ups per client address', () => {
    let direct: NestFastifyApplication;
    let behindProxy: NestFastifyApplication;

    beforeAll(async () => {
      direct = await startApp({ AUTH_SIGNUPS_PER_HOUR: '3' });
      // 127.0.0.1 (the injected socket peer) is the trusted proxy here, as nginx is in compose.
      behindProxy = await startApp({ AUTH_SIGNUPS_PER_HOUR: '3', TRUSTED_PROXIES: '127.0.0.1/32' });
    });

    afterAll(async () => {
      await Promise.all([direct.close(), behindProxy.close()]);
    });

    it('should answer 429 RATE_LIMITED with Retry-After to the fourth sign-up of one address, whatever X-Forwarded-For it forges', async () => {
      const replies = [];
      for (let i = 0; i < 5; i++) {
        replies.push(
          await call(direct, 'POST', '/users', {
            body: signUpBody(),
            // Not a trusted proxy's header: ignored, so rotating it does not evade the limit.
            headers: { 'x-forwarded-for': `203.0.113.${i}` },
          }),
        );
      }
      expect(replies.map((reply) => reply.status)).toEqual([201, 201, 201, 429, 429]);
      expect(replies[3].body).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(replies[3].headers['retry-after'])).toBeGreaterThan(3500);
    });

    it('should count the right-most untrusted X-Forwarded-For hop behind a trusted proxy', async () => {
      const from = (chain: string) =>
        call(behindProxy, 'POST', '/users', {
          body: signUpBody(),
          headers: { 'x-forwarded-for': chain },
        });
      // A client prepending fake hops is still counted by the address the proxy saw.
      const first = [];
      for (let i = 0; i < 4; i++) first.push(await from(`10.0.0.${i}, 198.51.100.7`));
      expect(first.map((reply) => reply.status)).toEqual([201, 201, 201, 429]);
      // Another client behind the same proxy has its own allowance.
      expect((await from('198.51.100.8')).status).toBe(201);
    });
  });

  describe('writes per user per minute', () => {
    let apps: NestFastifyApplication[];

    beforeAll(async () => {
      apps = await Promise.all(
        [0, 1, 2].map(() => startApp({ RATE_LIMIT_USER_WRITES_PER_MINUTE: '5' })),
      );
    });

    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
    });

    it('should allow exactly the limit across three instances, answer 429 after, and leave other users alone', async () => {
      const [busy, other] = await storedUsers(apps[0], 2);
      await sql(apps[0], 'INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES ?', [
        [busy, other].map((id) => [id, 0, new Date()]),
      ]);
      const charges = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          call(apps[i % 3], 'POST', `/users/${busy}/cash/charges`, {
            user: busy,
            body: { amount: 100 },
          }),
        ),
      );
      expect(tally(charges)).toEqual({ '200': 5, '429 RATE_LIMITED': 7 });
      const limited = charges.find((reply) => reply.status === 429);
      expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Only the allowed charges moved money.
      const [wallet] = await sql<{ balance: number }[]>(
        apps[0],
        'SELECT balance FROM cash_wallets WHERE user_id = ?',
        [busy],
      );
      expect(Number(wallet.balance)).toBe(500);
      // Reads are not writes, and another user has their own budget.
      expect((await call(apps[1], 'GET', `/users/${busy}/cash`, { user: busy })).status).toBe(200);
      const theirs = await call(apps[2], 'POST', `/users/${other}/cash/charges`, {
        user: other,
        body: { amount: 100 },
      });
      expect(theirs.status).toBe(200);
    });

    it('should count queue token issue as a write', async () => {
      const [fan] = await storedUsers(apps[0], 1);
      const concert = await request(http(apps[0]))
        .post('/admin/concerts')
        .set('X-Admin-Key', 'test-admin-key-at-least-32-characters')
        .send({ title: 'Limits' })
        .expect(201);
      const concertId = (concert.body as { id: number }).id;
      const replies = [];
      for (let i = 0; i < 6; i++) {
        replies.push(
          await call(apps[i % 3], 'POST', '/queue/tokens', { user: fan, body: { concertId } }),
        );
      }
      expect(replies.map((reply) => reply.status)).toEqual([201, 200, 200, 200, 200, 429]);
    });
  });
});
