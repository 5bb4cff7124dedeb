import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { http } from './app';

/** The secret test-env.ts gives every app; any holder of it may mint access tokens. */
export const TEST_JWT_SECRET = 'test-jwt-secret-at-least-32-characters-long';
export const TEST_ISSUER = 'concert-booking';
export const TEST_AUDIENCE = 'concert-booking-api';

export interface TokenOverrides {
  secret?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
}

/** An HS256 access token for `userId`, exactly as POST /auth/tokens issues them. */
export function accessToken(userId: string, overrides: TokenOverrides = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(overrides.issuer ?? TEST_ISSUER)
    .setAudience(overrides.audience ?? TEST_AUDIENCE)
    .setSubject(userId)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (overrides.expiresIn ?? 600))
    .sign(new TextEncoder().encode(overrides.secret ?? TEST_JWT_SECRET));
}

const minted = new Map<string, Promise<string>>();

/**
 * `{ authorization: 'Bearer …' }` for `userId`, to spread into request headers. One token per
 * user per test file (valid 10 minutes), so 1,000-fan races do not spend their time signing.
 */
export async function authHeader(userId: string): Promise<{ authorization: string }> {
  let token = minted.get(userId);
  if (!token) {
    token = accessToken(userId);
    minted.set(userId, token);
  }
  return { authorization: `Bearer ${await token}` };
}

/** POST /auth/tokens; returns the access token. */
export async function logIn(
  app: NestFastifyApplication,
  email: string,
  password: string,
): Promise<string> {
  const response = await request(http(app)).post('/auth/tokens').send({ email, password });
  if (response.status !== 200) {
    throw new Error(
      `POST /auth/tokens answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
  }
  return (response.body as { accessToken: string }).accessToken;
}
