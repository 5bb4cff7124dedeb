import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { http, sql } from '../support/app';
import { authHeader } from '../support/auth';

/** What POST /users takes. */
export interface UserFields {
  name: string;
  email: string;
  password: string;
}

export interface SignedUpUser extends UserFields {
  id: string;
}

export interface SignedInUser extends SignedUpUser {
  /** The `Authorization` header value of this user's access token. */
  authorization: string;
}

let made = 0;

/** Sign-up fields with a unique email and a password the policy accepts; override any. */
export function aUser(overrides: Partial<UserFields> = {}): UserFields {
  made += 1;
  return {
    name: `Test User ${made}`,
    email: `user-${randomUUID()}@example.test`,
    password: 'correct horse battery staple',
    ...overrides,
  };
}

/** A user signed up through POST /users, which also opens the wallet. */
export async function signedUpUser(
  app: NestFastifyApplication,
  overrides: Partial<UserFields> = {},
): Promise<SignedUpUser> {
  const fields = aUser(overrides);
  const response = await request(http(app)).post('/users').send(fields);
  if (response.status !== 201) {
    throw new Error(`POST /users answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  const created = response.body as { id: string; name: string; email: string };
  return { ...created, password: fields.password };
}

/** `count` signed-up users, in batches that keep the connection count sane. */
export async function signedUpUsers(
  app: NestFastifyApplication,
  count: number,
): Promise<SignedUpUser[]> {
  const users: SignedUpUser[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, i) =>
      signedUpUser(app, { name: `User ${start + i + 1}` }),
    );
    users.push(...(await Promise.all(batch)));
  }
  return users;
}

/** A signed-up user with a minted access token, ready to call the API as itself. */
export async function signedInUser(
  app: NestFastifyApplication,
  overrides: Partial<UserFields> = {},
): Promise<SignedInUser> {
  const user = await signedUpUser(app, overrides);
  return { ...user, ...(await authHeader(user.id)) };
}

/**
 * `count` users (name only, no login) straight into MySQL, for arranging many at once without
 * thousands of sign-ups or where no HTTP app runs; `wallets` opens an empty wallet for each.
 */
export async function storedUsers(
  app: INestApplicationContext,
  count: number,
  options: { wallets?: boolean } = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let start = 0; start < ids.length; start += 1000) {
    const now = new Date();
    const batch = ids.slice(start, start + 1000);
    await sql(app, 'INSERT INTO users (id, name, created_at) VALUES ?', [
      batch.map((id, i) => [id, `Fan ${start + i + 1}`, now]),
    ]);
    if (options.wallets) {
      await sql(app, 'INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES ?', [
        batch.map((id) => [id, 0, now]),
      ]);
    }
  }
  return ids;
}
