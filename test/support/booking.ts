import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConcert } from '../factories/catalogue.factory';
import { signedUpUser, storedUsers } from '../factories/user.factory';
import { sql, startApp } from './app';
import { expectAuditOk } from './audit';
import { authHeader } from './auth';
import { assertBookingInvariants } from './booking-invariants';
import { activeTokenFor, resetQueue, runAdmission } from './queue';

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

/** A signed-up user with `balance` charged and an ACTIVE queue token for `concertId`. */
export async function fundedFan(
  app: NestFastifyApplication,
  concertId: number,
  balance = 0,
): Promise<Fan> {
  const user = await signedUpUser(app);
  if (balance > 0) await charge(app, user.id, balance);
  return { userId: user.id, token: await activeTokenFor(app, user.id, concertId) };
}

/** POST /reservations as `fan`, with their bearer and queue token. */
export function holdSeat(
  app: NestFastifyApplication,
  fan: Fan,
  scheduleId: number,
  seatId: number,
): Promise<Reply> {
  return call(app, 'POST', '/reservations', {
    user: fan.userId,
    token: fan.token,
    body: { scheduleId, seatId },
  });
}

/** POST /payments as `fan`; `key` is sent as the Idempotency-Key. */
export function payFor(
  app: NestFastifyApplication,
  fan: Fan,
  reservationIds: unknown,
  key?: string,
): Promise<Reply> {
  return call(app, 'POST', '/payments', {
    user: fan.userId,
    token: fan.token,
    body: { reservationIds },
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

/** POST /payments/{id}/refund as `userId` (none: no bearer); `key` is the Idempotency-Key. */
export function refundPayment(
  app: NestFastifyApplication,
  userId: string | undefined,
  paymentId: number | string,
  key?: string,
): Promise<Reply> {
  return call(app, 'POST', `/payments/${paymentId}/refund`, {
    user: userId,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

/**
 * Racers that sent one Idempotency-Key, by what each was told: `fresh` did the work (answered
 * `status`, not replayed), `replayed` got the stored answer, `inProgress` came while it ran.
 */
export function byKeyOutcome(replies: Reply[], status: number) {
  return {
    fresh: replies.filter((r) => r.status === status && !r.headers['idempotent-replayed']),
    replayed: replies.filter((r) => r.headers['idempotent-replayed'] === 'true'),
    inProgress: replies.filter(
      (r) => r.status === 409 && r.body.code === 'IDEMPOTENCY_KEY_IN_PROGRESS',
    ),
  };
}

export interface BookingApps {
  /** Every instance; all share this test file's database and Redis prefix. */
  readonly apps: NestFastifyApplication[];
  /** The first instance, which arranges and checks. */
  readonly app: NestFastifyApplication;
}

/**
 * The apps `start` boots, for the enclosing describe: up before its first test, closed after its
 * last, and the booking invariants (and with `audit` the shipped audit) checked after every test,
 * so no scenario can leave a broken database behind for the next one to trip over.
 */
export function useBookingApps(
  start: () => Promise<NestFastifyApplication[]>,
  { audit = false }: { audit?: boolean } = {},
): BookingApps {
  let apps: NestFastifyApplication[] = [];
  beforeAll(async () => {
    apps = await start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });
  afterEach(async () => {
    await assertBookingInvariants(apps[0]);
    if (audit) await expectAuditOk(apps[0]);
  });
  return {
    get apps() {
      return apps;
    },
    get app() {
      return apps[0];
    },
  };
}

export interface BookingStage extends BookingApps {
  /** Every fan's queue token is for this concert; each test books its own schedules of it. */
  readonly concertId: number;
}

/**
 * The apps `start` boots (startCluster's, typically), set up as useBookingApps does, with empty
 * waiting rooms and one concert to queue for.
 */
export function useBookingStage(
  start: () => Promise<NestFastifyApplication[]>,
  options: { audit?: boolean } = {},
): BookingStage {
  const booking = useBookingApps(start, options);
  let concertId = 0;
  beforeAll(async () => {
    await resetQueue(booking.app);
    concertId = (await createConcert(booking.app)).id;
  });
  return {
    get apps() {
      return booking.apps;
    },
    get app() {
      return booking.app;
    },
    get concertId() {
      return concertId;
    },
  };
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
