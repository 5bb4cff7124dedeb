import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { http, sql, startApp } from '../support/app';
import { accessToken } from '../support/auth';
import { TestIdentityProvider } from '../support/jwks-server';
import { signedUpUser } from '../factories/user.factory';

describe('External identity provider tokens (e2e)', () => {
  const idp = new TestIdentityProvider();
  let app: NestFastifyApplication;
  let jwksUrl: string;

  beforeAll(async () => {
    const url = await idp.start();
    jwksUrl = url;
    await idp.addKey('RS256', 'rsa-1');
    await idp.addKey('ES256', 'ec-1');
    await idp.addKey('EdDSA', 'ed-1');
    app = await startApp({
      AUTH_JWKS_URL: url,
      AUTH_JWKS_ISSUER: idp.issuer,
      AUTH_JWKS_TIMEOUT_MS: '500',
      AUTH_JWKS_COOLDOWN_MS: '0',
    });
  });

  afterAll(async () => {
    await app.close();
    await idp.stop();
  });

  beforeEach(() => {
    idp.mode = 'serve';
  });

  const me = (token: string) =>
    request(http(app)).get('/users/me').set('Authorization', `Bearer ${token}`);

  it.each(['rsa-1', 'ec-1', 'ed-1'])(
    'should accept a token signed with %s and map it to a local user named by the claim',
    async (kid) => {
      const sub = `user-${randomUUID()}`;
      const token = await idp.sign(kid, { sub, name: 'Lee Jieun', email: 'iu@idp.example' });
      const response = await me(token).expect(200);
      expect(response.body).toMatchObject({ name: 'Lee Jieun', email: 'iu@idp.example' });
      const rows = await sql<{ user_id: string }[]>(
        app,
        'SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?',
        [idp.issuer, sub],
      );
      expect(rows).toEqual([{ user_id: (response.body as { id: string }).id }]);
      // The local user has a wallet like any other.
      await request(http(app))
        .get('/users/me/cash')
        .set('Authorization', `Bearer ${token}`)
        .expect(200, { userId: rows[0].user_id, balance: 0 });
    },
  );

  it('should name the user after sub and leave the email null when the claims are missing', async () => {
    const sub = `bare-${randomUUID()}`.slice(0, 40);
    const response = await me(await idp.sign('rsa-1', { sub })).expect(200);
    expect(response.body).toMatchObject({ name: sub, email: null });
  });

  it('should create exactly one local user when 20 first requests of one identity race over two instances', async () => {
    const second = await startApp({
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWKS_ISSUER: idp.issuer,
      AUTH_JWKS_COOLDOWN_MS: '0',
    });
    const sub = `racer-${randomUUID()}`;
    const token = await idp.sign('ec-1', { sub, name: 'Racer' });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(http(i % 2 ? second : app))
          .get('/users/me')
          .set('Authorization', `Bearer ${token}`),
      ),
    );
    await second.close();
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    const ids = new Set(replies.map((reply) => (reply.body as { id: string }).id));
    expect(ids.size).toBe(1);
    const [links] = await sql<{ n: number }[]>(
      app,
      'SELECT COUNT(*) AS n FROM user_identities WHERE issuer = ? AND subject = ?',
      [idp.issuer, sub],
    );
    expect(Number(links.n)).toBe(1);
    const [users] = await sql<{ n: number }[]>(
      app,
      "SELECT COUNT(*) AS n FROM users WHERE name = 'Racer'",
    );
    expect(Number(users.n)).toBe(1);
  });

  it('should refetch the JWKS for an unknown key id and accept the new key', async () => {
    await me(await idp.sign('rsa-1', { sub: 'warm-up' })).expect(200);
    await idp.addKey('RS256', 'rsa-rotated', false);
    const token = await idp.sign('rsa-rotated', { sub: `rotated-${randomUUID()}` });
    // Not published yet: the refetch finds no such key.
    await me(token).expect(401);
    idp.publish('rsa-rotated');
    const before = idp.fetches;
    await me(token).expect(200);
    expect(idp.fetches).toBe(before + 1);
    // Known now: no further fetch.
    await me(token).expect(200);
    expect(idp.fetches).toBe(before + 1);
  });

  it('should keep serving known keys while the JWKS endpoint hangs, and bound the wait for an unknown one', async () => {
    const known = await idp.sign('ed-1', { sub: `steady-${randomUUID()}` });
    await me(known).expect(200);
    await idp.addKey('ES256', 'never-published', false);
    const unknown = await idp.sign('never-published', { sub: `ghost-${randomUUID()}` });
    idp.mode = 'hang';
    const startedUnknown = Date.now();
    const pending = me(unknown);
    const startedKnown = Date.now();
    await me(known).expect(200);
    expect(Date.now() - startedKnown).toBeLessThan(400);
    const response = await pending.expect(401);
    expect((response.body as { code: string }).code).toBe('AUTH_TOKEN_INVALID');
    // AUTH_JWKS_TIMEOUT_MS is 500: the unknown kid waited about that long, not forever.
    expect(Date.now() - startedUnknown).toBeLessThan(3_000);
    idp.mode = 'fail';
    await me(known).expect(200);
    await me(unknown).expect(401);
  });

  it('should refuse a provider token with the wrong issuer, the wrong audience or an expired exp', async () => {
    const sub = `strict-${randomUUID()}`;
    for (const token of [
      await idp.sign('rsa-1', { sub }, { issuer: 'https://evil.example/' }),
      await idp.sign('rsa-1', { sub }, { audience: 'another-api' }),
      await idp.sign('rsa-1', { sub }, { expiresIn: '-2m' }),
    ]) {
      const response = await me(token).expect(401);
      expect((response.body as { code: string }).code).toBe('AUTH_TOKEN_INVALID');
    }
    const [links] = await sql<{ n: number }[]>(
      app,
      'SELECT COUNT(*) AS n FROM user_identities WHERE subject = ?',
      [sub],
    );
    expect(Number(links.n)).toBe(0);
  });

  it('should keep accepting local HS256 tokens alongside the provider', async () => {
    const user = await signedUpUser(app);
    const response = await me(await accessToken(user.id));
    expect(response.status).toBe(200);
    expect((response.body as { id: string }).id).toBe(user.id);
  });
});
