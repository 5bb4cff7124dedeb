import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { RedisClient } from '../../src/common/redis/redis-client';
import { http, sql, startApp } from '../support/app';
import { accessToken, logIn, TEST_AUDIENCE, TEST_ISSUER } from '../support/auth';
import { eventually } from '../support/eventually';
import { scanKeys } from '../support/redis-topology';
import { signedUpUser } from '../factories/user.factory';

describe('Accounts and access tokens (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ AUTH_LOGIN_MAX_FAILURES: '5', AUTH_LOGIN_WINDOW_SECONDS: '60' });
  });

  afterAll(async () => {
    await app.close();
  });

  const me = (authorization?: string) => {
    const call = request(http(app)).get('/users/me');
    return authorization === undefined ? call : call.set('Authorization', authorization);
  };

  describe('sign-up', () => {
    it('should create a user with an argon2id hash at OWASP parameters and never return the password', async () => {
      const email = `Mixed.Case-${randomUUID()}@Example.TEST`;
      const response = await request(http(app))
        .post('/users')
        .send({ name: 'Kim Minji', email, password: 'a long enough password' })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.any(String),
        name: 'Kim Minji',
        email,
        createdAt: expect.any(String),
      });
      expect(JSON.stringify(response.body)).not.toContain('password');
      const [row] = await sql<{ password_hash: string; email_key: string }[]>(
        app,
        'SELECT password_hash, email_key FROM users WHERE id = ?',
        [(response.body as { id: string }).id],
      );
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
      expect(row.email_key).toBe(email.toLowerCase());
    });

    it('should answer exactly one 201 when 20 sign-ups with one email race', async () => {
      const email = `race-${randomUUID()}@example.test`;
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          request(http(app))
            .post('/users')
            .send({
              name: `Racer ${i}`,
              email: i % 2 ? email : email.toUpperCase(),
              password: 'password-123',
            }),
        ),
      );
      const statuses = replies.map((reply) => reply.status).sort();
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(19);
      for (const reply of replies.filter((r) => r.status === 409)) {
        expect((reply.body as { code: string }).code).toBe('EMAIL_TAKEN');
      }
      const [count] = await sql<{ n: number }[]>(
        app,
        'SELECT COUNT(*) AS n FROM users WHERE email_key = ?',
        [email.toLowerCase()],
      );
      expect(Number(count.n)).toBe(1);
    });

    it('should answer 409 EMAIL_TAKEN when the email is registered in another case', async () => {
      const user = await signedUpUser(app);
      const response = await request(http(app))
        .post('/users')
        .send({ name: 'Twin', email: user.email.toUpperCase(), password: 'password-123' })
        .expect(409);
      expect((response.body as { code: string }).code).toBe('EMAIL_TAKEN');
    });

    it('should refuse passwords of 7 and 129 characters and accept 8 and 128', async () => {
      for (const [password, status] of [
        ['x'.repeat(7), 400],
        ['x'.repeat(129), 400],
        ['x'.repeat(8), 201],
        ['x'.repeat(128), 201],
      ] as const) {
        const response = await request(http(app))
          .post('/users')
          .send({ name: 'Length', email: `len-${randomUUID()}@example.test`, password });
        expect(response.status).toBe(status);
        if (status === 400) {
          expect((response.body as { code: string }).code).toBe('VALIDATION_FAILED');
        }
      }
    });

    it('should refuse a bad email, a missing password and a name with control or bidi characters', async () => {
      for (const body of [
        { name: 'A', email: 'not-an-email', password: 'password-123' },
        { name: 'A', email: `a-${randomUUID()}@example.test` },
        {
          name: 'Evil\u202Egnp.exe',
          email: `b-${randomUUID()}@example.test`,
          password: 'password-123',
        },
        { name: 'Bell\u0007', email: `c-${randomUUID()}@example.test`, password: 'password-123' },
        {
          name: 'A',
          email: `d-${randomUUID()}@example.test`,
          password: 'password-123',
          admin: true,
        },
      ]) {
        const response = await request(http(app)).post('/users').send(body).expect(400);
        expect((response.body as { code: string }).code).toBe('VALIDATION_FAILED');
      }
    });
  });

  describe('login', () => {
    it('should issue an HS256 bearer token that works on GET /users/me', async () => {
      const user = await signedUpUser(app);
      const response = await request(http(app))
        .post('/auth/tokens')
        .send({ email: user.email.toUpperCase(), password: user.password })
        .expect(200);
      const body = response.body as { accessToken: string; tokenType: string; expiresIn: number };
      expect(body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 3600,
      });
      const header = JSON.parse(
        Buffer.from(body.accessToken.split('.')[0], 'base64url').toString(),
      ) as { alg: string };
      expect(header.alg).toBe('HS256');
      const mine = await me(`Bearer ${body.accessToken}`).expect(200);
      expect(mine.body).toMatchObject({ id: user.id, email: user.email });
      await request(http(app))
        .get(`/users/${user.id}`)
        .set('Authorization', `Bearer ${body.accessToken}`)
        .expect(200);
    });

    it('should answer an unknown email and a wrong password with the same 401 CREDENTIALS_INVALID', async () => {
      const user = await signedUpUser(app);
      const wrong = await request(http(app))
        .post('/auth/tokens')
        .send({ email: user.email, password: 'not the password' })
        .expect(401);
      const unknown = await request(http(app))
        .post('/auth/tokens')
        .send({ email: `nobody-${randomUUID()}@example.test`, password: 'not the password' })
        .expect(401);
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(strip(wrong.body as Record<string, unknown>)).toEqual(
        strip(unknown.body as Record<string, unknown>),
      );
      expect((wrong.body as { code: string }).code).toBe('CREDENTIALS_INVALID');
    });

    it('should answer 429 with Retry-After on the sixth wrong password, even for the right one, then let the user in after the window', async () => {
      const user = await signedUpUser(app);
      const attempt = (password: string) =>
        request(http(app)).post('/auth/tokens').send({ email: user.email, password });
      for (let i = 0; i < 5; i++) await attempt(`wrong-${i}`).expect(401);
      const sixth = await attempt('wrong-6').expect(429);
      expect((sixth.body as { code: string }).code).toBe('RATE_LIMITED');
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Locked out: even the right password is not checked until the window passes.
      await attempt(user.password).expect(429);
      // The window runs out (its Redis TTL, moved instead of waited for): the right one works.
      const redis: RedisClient = app.get(Redis);
      const prefix = redis.options.keyPrefix ?? '';
      const windows = await scanKeys(redis, `${prefix}ratelimit:logins:*`, prefix);
      expect(windows.length).toBeGreaterThan(0);
      await Promise.all(windows.map((key) => redis.pexpire(key, 1)));
      await eventually(() => attempt(user.password).expect(200), 10_000, 50);
    });

    it('should check at most AUTH_LOGIN_MAX_FAILURES passwords when 30 guesses arrive at once', async () => {
      const user = await signedUpUser(app);
      const replies = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(http(app))
            .post('/auth/tokens')
            .send({ email: user.email, password: `guess-${i}` }),
        ),
      );
      expect(replies.filter((reply) => reply.status === 401)).toHaveLength(5);
      expect(replies.filter((reply) => reply.status === 429)).toHaveLength(25);
    });
  });

  describe('bearer tokens that must fail with 401 AUTH_TOKEN_INVALID', () => {
    let userId: string;

    beforeAll(async () => {
      userId = (await signedUpUser(app)).id;
    });

    const expectInvalid = async (authorization: string | undefined, path = '/users/me') => {
      const call = request(http(app)).get(path);
      const response = await (
        authorization === undefined ? call : call.set('Authorization', authorization)
      ).expect(401);
      expect((response.body as { code: string }).code).toBe('AUTH_TOKEN_INVALID');
      expect(String(response.headers['www-authenticate'])).toMatch(/^Bearer/);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    };

    it('should accept a valid token (the control case)', async () => {
      const response = await me(`Bearer ${await accessToken(userId)}`);
      expect(response.status).toBe(200);
    });

    it('should refuse a missing header', async () => {
      await expectInvalid(undefined);
    });

    it('should refuse an unsecured token (alg: none)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const unsigned = new UnsecuredJWT({})
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .encode();
      await expectInvalid(`Bearer ${unsigned}`);
      // The same with the signature part stripped off a real token, header rewritten to none.
      const [, payload] = (await accessToken(userId)).split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      await expectInvalid(`Bearer ${none}.${payload}.`);
    });

    it('should refuse an HS256 token signed with another secret', async () => {
      await expectInvalid(
        `Bearer ${await accessToken(userId, { secret: 'another-secret-that-is-32-chars-long!!' })}`,
      );
    });

    it('should refuse an RS256 token when no JWKS is configured', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
      await expectInvalid(`Bearer ${token}`);
    });

    it('should refuse a token expired beyond the 30 s leeway and accept one within it', async () => {
      await expectInvalid(`Bearer ${await accessToken(userId, { expiresIn: -60 })}`);
      await me(`Bearer ${await accessToken(userId, { expiresIn: -10 })}`).expect(200);
    });

    it('should refuse a wrong issuer and a wrong audience', async () => {
      await expectInvalid(`Bearer ${await accessToken(userId, { issuer: 'someone-else' })}`);
      await expectInvalid(`Bearer ${await accessToken(userId, { audience: 'another-api' })}`);
    });

    it('should refuse a validly signed token whose sub is no user', async () => {
      await expectInvalid(`Bearer ${await accessToken(randomUUID())}`);
      await expectInvalid(`Bearer ${await accessToken('not-a-uuid')}`);
    });

    it('should refuse a token sent only in the query string', async () => {
      const token = await accessToken(userId);
      await expectInvalid(undefined, `/users/me?access_token=${token}`);
      await expectInvalid(undefined, `/users/me/cash?token=${token}`);
    });

    it('should refuse a token without the Bearer prefix or with garbage around it', async () => {
      const token = await accessToken(userId);
      for (const header of [
        token,
        `Basic ${token}`,
        `Bearer`,
        `Bearer  ${token}`,
        `Bearer ${token} extra`,
        `Bearer ${token.slice(0, -2)}`,
        `Bearer ${'a'.repeat(9000)}`,
      ]) {
        await expectInvalid(header);
      }
    });

    it('should never let a token act for another user: the path id of someone else is 404', async () => {
      const other = await signedUpUser(app);
      const response = await request(http(app))
        .get(`/users/${other.id}`)
        .set('Authorization', `Bearer ${await accessToken(userId)}`)
        .expect(404);
      expect((response.body as { code: string }).code).toBe('USER_NOT_FOUND');
      // The same answer as an id nobody has, so it says nothing about whether the user exists.
      const nobody = await request(http(app))
        .get(`/users/${randomUUID()}`)
        .set('Authorization', `Bearer ${await accessToken(userId)}`)
        .expect(404);
      expect((nobody.body as { detail: string }).detail).toBe(
        (response.body as { detail: string }).detail,
      );
    });
  });

  it('should let a freshly logged-in user reach their own wallet through the `me` alias', async () => {
    const user = await signedUpUser(app);
    const token = await logIn(app, user.email, user.password);
    const cash = await request(http(app))
      .get('/users/me/cash')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(cash.body).toEqual({ userId: user.id, balance: 0 });
  });

  it('should document the bearer scheme and each operation’s requirement in the OpenAPI document', async () => {
    const doc = (await request(http(app)).get('/docs-json').expect(200)).body as {
      components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const secured = (path: string, method: string) =>
      (doc.paths[path][method].security ?? []).some((entry) => 'bearer' in entry);
    expect(secured('/users/{userId}', 'get')).toBe(true);
    expect(secured('/users/{userId}/cash/charges', 'post')).toBe(true);
    expect(secured('/queue/tokens', 'post')).toBe(true);
    expect(secured('/reservations', 'post')).toBe(true);
    expect(secured('/payments', 'post')).toBe(true);
    expect(secured('/users', 'post')).toBe(false);
    expect(secured('/auth/tokens', 'post')).toBe(false);
    expect(secured('/queue/status', 'get')).toBe(false);
  });
});
