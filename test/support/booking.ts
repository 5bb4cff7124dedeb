import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { storedUsers } from '../factories/user.factory';
import { sql, startApp } from './app';
import { authHeader } from './auth';
import { runAdmission } from './queue';

/**
 * Environment for the many-instance races: every fan admitted at once, and the overload guard
 * off because all instances share this test process's event loop (its 503s are load shedding by
 * design, not what these tests measure).
 */
export const RACE_ENV: Record<string, string> = {
  QUEUE_MAX_ACTIVE_USERS: '100000',
  QUEUE_ADMIT_PER_SECOND: '100000',
  OVERLOAD_MAX_IN_FLIGHT: '0',
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
  // With the guard off each instance's pool queues at most 200 waiting requests; 20 connections
  // + the queue cover a fifth of a 1,000-request burst.
  DB_POOL_SIZE: '20',
};

/** Several app instances against the same MySQL and Redis (this file's key prefix). */
export function startCluster(
  count: number,
  env: Record<string, string> = {},
): Promise<NestFastifyApplication[]> {
  return Promise.all(Array.from({ length: count }, () => startApp({ ...RACE_ENV, ...env })));
}

export interface Fan {
  userId: string;
  token: string;
}

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, unknown>;
}

/**
 * One request through the whole Fastify pipeline (guards, pipes, filter) without a socket.
 * `user` sends that user's bearer token; `token` a Queue-Token.
 */
export async function call(
  app: NestFastifyApplication,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  options: { user?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(options.user ? await authHeader(options.user) : {}),
      ...(options.token ? { 'queue-token': options.token } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
  return {
    status: response.statusCode,
    body: response.body ? JSON.parse(response.body) : undefined,
    headers: response.headers,
  };
}

/**
 * `count` users with empty wallets and ACTIVE queue tokens for `concertId`. Users and wallets go
 * straight into MySQL (arranging only); tokens come from the queue API, with each user's own
 * bearer token, and one admission run, so they are as real as any client's. The app must run
 * with RACE_ENV (or another large admission limit).
 */
export async function fansWithActiveTokens(
  app: NestFastifyApplication,
  count: number,
  concertId: number,
): Promise<Fan[]> {
  const userIds = await storedUsers(app, count, { wallets: true });
  const fans: Fan[] = [];
  for (let start = 0; start < userIds.length; start += 100) {
    const batch = await Promise.all(
      userIds.slice(start, start + 100).map(async (userId) => {
        const issued = await call(app, 'POST', '/queue/tokens', {
          user: userId,
          body: { concertId },
        });
        if (issued.status !== 201) {
          throw new Error(
            `POST /queue/tokens answered ${issued.status}: ${JSON.stringify(issued.body)}`,
          );
        }
        return { userId, token: (issued.body as { token: string }).token };
      }),
    );
    fans.push(...batch);
  }
  await runAdmission(app);
  return fans;
}

/** Tallies statuses and error codes: `{ '201': 1, '409 SEAT_UNAVAILABLE': 999 }`. */
export function tally(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const code = (reply.body as { code?: string } | undefined)?.code;
    const key = reply.status < 300 ? String(reply.status) : `${reply.status} ${code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Sets a user's balance through the API: `POST /users/{id}/cash/charges`, at most 1,000,000 a call. */
export async function charge(app: NestFastifyApplication, userId: string, amount: number) {
  for (let left = amount; left > 0; left -= 1_000_000) {
    const reply = await call(app, 'POST', `/users/${userId}/cash/charges`, {
      user: userId,
      body: { amount: Math.min(left, 1_000_000) },
    });
    if (reply.status !== 200) {
      throw new Error(`charge answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
  }
}

/**
 * Moves the database clock's verdict instead of waiting out RESERVATION_HOLD_SECONDS: these holds
 * (the reservation and the seat's copy of its end) ran out a minute ago. Nothing else changes, as
 * when the release job has not run yet.
 */
export async function expireHoldsNow(app: INestApplicationContext, reservationIds: number[]) {
  await sql(
    app,
    `UPDATE reservations SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE
      WHERE id IN (?) AND status = 'HELD'`,
    [reservationIds],
  );
  await sql(
    app,
    'UPDATE seats SET hold_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE reservation_id IN (?)',
    [reservationIds],
  );
}
