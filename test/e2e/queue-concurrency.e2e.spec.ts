import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueService } from '../../src/modules/queue/domain/queue.service';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { createConcert } from '../factories/catalogue.factory';
import { startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { storedUsers } from '../factories/user.factory';
import { eventually } from '../support/eventually';
import { resetQueue, rewindQueueEntries, runAdmission, Ticket } from '../support/queue';

/**
 * The waiting queue against real Redis and MySQL, several app instances sharing both. HTTP goes
 * through Fastify's inject (the whole pipeline without sockets) so thousands of calls can be in
 * flight at once.
 */
describe('waiting queue (e2e)', () => {
  const apps: NestFastifyApplication[] = [];

  /** The concert every join of the test names unless it says otherwise (one per boot). */
  let concertId: number;

  async function boot(count: number, env: Record<string, string> = {}) {
    const booted = await Promise.all(Array.from({ length: count }, () => startApp(env)));
    apps.push(...booted);
    await resetQueue(booted[0]);
    concertId = (await createConcert(booted[0])).id;
    return booted;
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** POST /queue/tokens as `userId` (their bearer token), for the test's concert by default. */
  async function issue(app: NestFastifyApplication, userId: string, forConcert = concertId) {
    const response = await app.inject({
      method: 'POST',
      url: '/queue/tokens',
      headers: await authHeader(userId),
      payload: { concertId: forConcert },
    });
    return { status: response.statusCode, body: response.json<Ticket>() };
  }

  async function status(app: NestFastifyApplication, token: string) {
    const response = await app.inject({
      method: 'GET',
      url: '/queue/status',
      headers: { 'queue-token': token },
    });
    return {
      status: response.statusCode,
      body: response.json<Ticket>(),
      headers: response.headers,
    };
  }

  async function join(
    app: NestFastifyApplication,
    userIds: string[],
    forConcert = concertId,
  ): Promise<string[]> {
    const tokens: string[] = [];
    for (const userId of userIds) tokens.push((await issue(app, userId, forConcert)).body.token);
    return tokens;
  }

  const redisOf = (app: NestFastifyApplication) => app.get(Redis);
  const activeTokens = async (app: NestFastifyApplication) =>
    (await redisOf(app).zrange(roomKeys(concertId).active, 0, -1)).sort();
  /** The room a token is on record in, or null (the app's client applies the file's prefix). */
  const recordedConcert = async (app: NestFastifyApplication, token: string) => {
    const room = token.split('.')[0];
    return (await redisOf(app).hexists(roomKeys(Number(room)).owners, token)) ? room : null;
  };

  it('should give 5,000 concurrent joiners on two instances positions 1..5000 with no gap or duplicate', async () => {
    // Client and server share one event loop here, so load shedding (in-flight and event-loop
    // delay) would only measure the test itself: it is off. Newcomers' user lookups are batched,
    // so MySQL's pool is not the limit either. What remains is this process's own event loop:
    // 5,000 requests started at once can starve it past the Redis command timeout on a busy box.
    // Such a 503 is retried as a real client would after Retry-After; if the join had in fact
    // happened, the retry gets the same token back (200), which must not disturb the positions.
    const [a, b] = await boot(2, {
      OVERLOAD_MAX_IN_FLIGHT: '0',
      OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const users = await storedUsers(a, 5000);

    let retried = 0;
    const results = await Promise.all(
      users.map(async (userId, i) => {
        for (let attempt = 1; ; attempt++) {
          const result = await issue(i % 2 ? b : a, userId);
          if (result.status !== 503 || attempt === 10) return result;
          retried++;
          await sleep(500 + Math.random() * 1000);
        }
      }),
    );
    if (retried > 0) console.log(`5,000 concurrent joins: ${retried} retried after a 503`);

    expect(results.filter((r) => r.status !== 201 && r.status !== 200)).toEqual([]);
    const positions = results.map((r) => r.body.position).sort((x, y) => x - y);
    expect(positions).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.body.token)).size).toBe(5000);
    expect(results.every((r) => r.body.concertId === concertId)).toBe(true);
    expect(await redisOf(a).zcard(roomKeys(concertId).waiting)).toBe(5000);
    expect(await redisOf(a).hlen(roomKeys(concertId).owners)).toBe(5000);

    // Nobody moved since joining: each status poll repeats the position the join reported.
    const sample = results.filter((_, i) => i % 50 === 0);
    for (const joined of sample) {
      const polled = await status(b, joined.body.token);
      expect(polled.body).toMatchObject({
        status: 'WAITING',
        position: joined.body.position,
        concertId,
      });
    }
  });

  it('should create one entry per room when the same user asks ten times at once, naming two concerts', async () => {
    const [a, b] = await boot(2);
    const [userId] = await storedUsers(a, 1);
    const other = (await createConcert(a)).id;

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => issue(i % 2 ? b : a, userId, i % 2 ? other : concertId)),
    );

    expect(results.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 201, 201,
    ]);
    // One live token per user and room: five answers name each room, with one token each.
    for (const room of [concertId, other]) {
      const answers = results.filter((r) => r.body.concertId === room);
      expect(answers).toHaveLength(5);
      expect(new Set(answers.map((r) => r.body.token)).size).toBe(1);
      expect(answers.every((r) => r.body.position === 1)).toBe(true);
      expect(answers[0].body.token.startsWith(`${room}.`)).toBe(true);
      expect(await redisOf(a).zcard(roomKeys(room).waiting)).toBe(1);
      expect(await redisOf(a).hlen(roomKeys(room).owners)).toBe(1);
    }
  });

  it('should give a returning user the same token and place, WAITING or ACTIVE', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '1' });
    const users = await storedUsers(app, 3);
    const tokens = await join(app, users);

    /** Joining again answers 200 with the user's own token, wherever it now stands. */
    const expectRejoined = async (i: number, status: Ticket['status'], position: number) => {
      const again = await issue(app, users[i]);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ token: tokens[i], status, position, concertId });
    };

    await expectRejoined(1, 'WAITING', 2);
    await runAdmission(app);
    await expectRejoined(0, 'ACTIVE', 0);
    const second = await issue(app, users[1]);
    expect(second.body).toMatchObject({ token: tokens[1], status: 'WAITING', position: 1 });
    expect(await redisOf(app).zcard(roomKeys(concertId).waiting)).toBe(2);
    expect(await recordedConcert(app, tokens[1])).toBe(String(concertId));
  });

  it('should never exceed the ACTIVE limit and admit in FIFO order with three runners at once', async () => {
    const limit = 5;
    const runners = await boot(3, {
      QUEUE_MAX_ACTIVE_USERS: String(limit),
      QUEUE_ADMIT_PER_SECOND: '1000',
    });
    const users = await storedUsers(runners[0], 40);
    const tokens = await join(runners[0], users);
    const queue = runners[0].get(QueueService);

    let admittedSoFar = 0;
    for (let round = 0; round < 12; round++) {
      // Free two slots (a payment would), while three instances run admission at that moment.
      const active = await activeTokens(runners[0]);
      await Promise.all([
        ...runners.map((app) => runAdmission(app)),
        ...active.slice(0, 2).map((token) => queue.retireToken(token)),
        ...runners.map((app) => runAdmission(app)),
      ]);
      await Promise.all(runners.map((app) => runAdmission(app)));

      const nowActive = await activeTokens(runners[0]);
      expect(nowActive.length).toBeLessThanOrEqual(limit);
      // Everyone admitted so far is exactly the head of the line, in join order.
      const admitted = await redisOf(runners[0]).zrange(roomKeys(concertId).admitted, 0, -1);
      admittedSoFar = admitted.length;
      expect(new Set(admitted).size).toBe(admittedSoFar);
      expect(new Set(admitted)).toEqual(new Set(tokens.slice(0, admittedSoFar)));
      const waiting = await redisOf(runners[0]).zrange(roomKeys(concertId).waiting, 0, -1);
      expect(waiting).toEqual(tokens.slice(admittedSoFar));
    }
    // 5 in the first round (nothing to expire yet), then 2 per round as slots free: 5 + 2 × 11.
    expect(admittedSoFar).toBe(27);
    expect(await activeTokens(runners[0])).toHaveLength(limit);
  });

  it('should admit at most QUEUE_ADMIT_PER_SECOND per Redis second across instances', async () => {
    const runners = await boot(3, { QUEUE_MAX_ACTIVE_USERS: '1000', QUEUE_ADMIT_PER_SECOND: '3' });
    const users = await storedUsers(runners[0], 30);
    const tokens = await join(runners[0], users);

    // Runs on every instance until three Redis seconds' worth are in (each second admits 3).
    await eventually(
      async () => {
        await Promise.all(runners.flatMap((app) => [runAdmission(app), runAdmission(app)]));
        expect(
          await redisOf(runners[0]).zcard(roomKeys(concertId).admitted),
        ).toBeGreaterThanOrEqual(9);
      },
      20_000,
      50,
    );

    const log = await redisOf(runners[0]).zrange(roomKeys(concertId).admitted, 0, -1, 'WITHSCORES');
    const perSecond = new Map<number, number>();
    for (let i = 1; i < log.length; i += 2) {
      const second = Math.floor(Number(log[i]) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    // The first second may be partial; every full one is filled exactly to the cap.
    expect([...perSecond.values()].every((count) => count <= 3)).toBe(true);
    expect([...perSecond.values()].filter((count) => count === 3).length).toBeGreaterThanOrEqual(2);
    // FIFO: the admitted are the head of the line, and nobody got in before someone ahead of them
    // (tokens admitted in the same run share a timestamp).
    const admittedAt = new Map<string, number>();
    for (let i = 0; i < log.length; i += 2) admittedAt.set(log[i], Number(log[i + 1]));
    const head = tokens.slice(0, admittedAt.size);
    expect(new Set(admittedAt.keys())).toEqual(new Set(head));
    const times = head.map((token) => admittedAt.get(token)!);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it('should drop WAITING entries that stopped polling and keep the ones that poll', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '1', QUEUE_WAITING_IDLE_SECONDS: '10' });
    const users = await storedUsers(app, 4);
    const [holder] = await join(app, users.slice(0, 1));
    await runAdmission(app);
    const [a, b, c] = await join(app, users.slice(1));

    // 6 s idle each, then b polls; 6 s more: a and c are 12 s idle, b only 6 s (limit 10 s).
    await rewindQueueEntries(app, concertId, 'seen', [a, b, c], 6_000);
    expect((await status(app, b)).body.position).toBe(2);
    await rewindQueueEntries(app, concertId, 'seen', [a, b, c], 6_000);

    // Past the idle limit an entry is gone for every reader, even before the job removes it.
    expect((await status(app, a)).status).toBe(401);
    const run = await runAdmission(app);
    expect(run).toEqual({ expired: 0, dropped: 2, admitted: 0, started: 0 });
    expect((await status(app, c)).status).toBe(401);
    expect((await status(app, b)).body).toMatchObject({ status: 'WAITING', position: 1 });
    expect((await status(app, holder)).body.status).toBe('ACTIVE');
    // A user who was dropped starts over with a new token at the end of the line.
    const rejoined = await issue(app, users[1]);
    expect(rejoined.status).toBe(201);
    expect(rejoined.body.token).not.toBe(a);
    expect(rejoined.body.position).toBe(2);
    expect(await redisOf(app).hlen(roomKeys(concertId).owners)).toBe(3);
    // The dropped tokens' concerts went with them; the live ones (and the new token) keep theirs.
    expect(await recordedConcert(app, a)).toBeNull();
    expect(await recordedConcert(app, c)).toBeNull();
    expect(await recordedConcert(app, rejoined.body.token)).toBe(String(concertId));
    expect((await redisOf(app).hkeys(roomKeys(concertId).owners)).sort()).toEqual(
      [holder, b, rejoined.body.token].sort(),
    );
  });

  it('should expire ACTIVE tokens after their TTL and give the slot to the next in line', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '1', QUEUE_ACTIVE_TTL_SECONDS: '60' });
    const users = await storedUsers(app, 2);
    const [first, second] = await join(app, users);
    await runAdmission(app);
    const admitted = await status(app, first);
    expect(admitted.body.status).toBe('ACTIVE');
    const until = Date.parse(admitted.body.activeUntil!);
    expect(until - Date.now()).toBeGreaterThan(0);
    expect(until - Date.now()).toBeLessThanOrEqual(60_100);
    expect((await runAdmission(app)).admitted).toBe(0);

    // Two TTLs later for this token: its expiry is a minute in the past.
    await rewindQueueEntries(app, concertId, 'active', [first], 120_000);
    // Expired for every reader at once, before the job has run.
    expect((await status(app, first)).status).toBe(401);
    expect(await runAdmission(app)).toEqual({ expired: 1, dropped: 0, admitted: 1, started: 0 });
    expect((await status(app, second)).body).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(await redisOf(app).hexists(roomKeys(concertId).users, users[0])).toBe(0);
    expect(await redisOf(app).hexists(roomKeys(concertId).owners, first)).toBe(0);
    expect(await redisOf(app).hkeys(roomKeys(concertId).owners)).toEqual([second]);
  });

  it('should end a token at once on retireToken and remember its owner for a day', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '1' });
    const users = await storedUsers(app, 2);
    const [paid, next] = await join(app, users);
    await runAdmission(app);
    const queue = app.get(QueueService);

    expect(await recordedConcert(app, paid)).toBe(String(concertId));
    await queue.retireToken(paid);

    expect((await status(app, paid)).status).toBe(401);
    expect(await redisOf(app).hexists(roomKeys(concertId).owners, paid)).toBe(0);
    expect(await redisOf(app).hkeys(roomKeys(concertId).owners)).toEqual([next]);
    await expect(queue.findRetiredTokenOwner(paid)).resolves.toBe(users[0]);
    expect(await redisOf(app).ttl(roomKeys(concertId).retired(paid))).toBeGreaterThanOrEqual(
      24 * 3600,
    );
    expect((await runAdmission(app)).admitted).toBe(1);
    expect((await status(app, next)).body.status).toBe('ACTIVE');
    await expect(queue.findRetiredTokenOwner(next)).resolves.toBeNull();
    await expect(
      queue.findRetiredTokenOwner('3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'),
    ).resolves.toBeNull();
    // Expiring twice is harmless and keeps the owner.
    await queue.retireToken(paid);
    await expect(queue.findRetiredTokenOwner(paid)).resolves.toBe(users[0]);
  });

  it('should record the known owner when the TTL removed the token just before retireToken', async () => {
    const [app] = await boot(1, { QUEUE_ACTIVE_TTL_SECONDS: '60' });
    const [userId] = await storedUsers(app, 1);
    const [token] = await join(app, [userId]);
    await runAdmission(app);
    await rewindQueueEntries(app, concertId, 'active', [token], 120_000);
    expect((await runAdmission(app)).expired).toBe(1);

    await app.get(QueueService).retireToken(token, userId);

    await expect(app.get(QueueService).findRetiredTokenOwner(token)).resolves.toBe(userId);
    expect(await redisOf(app).hlen(roomKeys(concertId).owners)).toBe(0);
  });

  it('should record the concert of each token and return it on issue, status and the guard pass', async () => {
    const [a, b] = await boot(2, { QUEUE_MAX_ACTIVE_USERS: '1' });
    const users = await storedUsers(a, 2);
    const other = (await createConcert(a)).id;

    const first = await issue(a, users[0]);
    const second = await issue(b, users[1], other);
    expect(first).toMatchObject({ status: 201, body: { concertId, status: 'WAITING' } });
    expect(second).toMatchObject({ status: 201, body: { concertId: other, status: 'WAITING' } });
    expect(await recordedConcert(a, first.body.token)).toBe(String(concertId));
    expect(await recordedConcert(a, second.body.token)).toBe(String(other));

    // Each room has its own cap of 1: both are admitted, each in its own room.
    await runAdmission(a);
    expect((await status(b, first.body.token)).body).toMatchObject({
      status: 'ACTIVE',
      concertId,
    });
    expect((await status(a, second.body.token)).body).toMatchObject({
      status: 'ACTIVE',
      concertId: other,
    });
    await expect(b.get(QueueService).authorizeActive(first.body.token, users[0])).resolves.toEqual({
      token: first.body.token,
      userId: users[0],
      concertId,
    });
  });

  it('should clean up a dead token when its user joins the same room again before the job runs', async () => {
    const [app] = await boot(1, { QUEUE_WAITING_IDLE_SECONDS: '60' });
    const [userId] = await storedUsers(app, 1);
    const [dead] = await join(app, [userId]);
    await rewindQueueEntries(app, concertId, 'seen', [dead], 120_000);

    const rejoined = await issue(app, userId);

    expect(rejoined.status).toBe(201);
    expect(rejoined.body).toMatchObject({ concertId, position: 1 });
    expect(rejoined.body.token).not.toBe(dead);
    expect(await redisOf(app).hgetall(roomKeys(concertId).owners)).toEqual({
      [rejoined.body.token]: userId,
    });
    expect(await runAdmission(app)).toMatchObject({ dropped: 0 });
  });

  it('should estimate the wait from the admission rate actually achieved and hint polls', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '4', QUEUE_ADMIT_PER_SECOND: '1000' });
    const users = await storedUsers(app, 24);
    const tokens = await join(app, users);
    await runAdmission(app);
    // 4 admitted just now, every slot taken: the measured rate is 4/s (1 s minimum span).
    const front = await status(app, tokens[4]);
    expect(front.body).toMatchObject({ status: 'WAITING', position: 1, estimatedWaitSeconds: 1 });
    expect(front.body.pollAfterSeconds).toBe(1);
    expect(front.headers['retry-after']).toBe('1');
    const back = await status(app, tokens[23]);
    expect(back.body).toMatchObject({ position: 20, estimatedWaitSeconds: 5, pollAfterSeconds: 2 });
    expect(back.headers['retry-after']).toBe('2');
    const active = await status(app, tokens[0]);
    // ACTIVE: nothing to wait for, an occasional look within the token's lifetime.
    expect(active.body.pollAfterSeconds).toBe(60);
    expect(active.headers['retry-after']).toBe('60');
  });

  it('should keep working after Redis forgets its scripts', async () => {
    const [app] = await boot(1);
    const [userId] = await storedUsers(app, 1);
    const [token] = await join(app, [userId]);
    await redisOf(app).script('FLUSH');
    expect((await status(app, token)).body).toMatchObject({ status: 'WAITING', position: 1 });
  });

  it('should count waiting and active users for the gauges and the business counters', async () => {
    const [app] = await boot(1, { QUEUE_MAX_ACTIVE_USERS: '2' });
    const users = await storedUsers(app, 5);
    await join(app, users);
    await runAdmission(app);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^queue_waiting_users 3$/m);
    expect(metrics).toMatch(/^queue_active_users 2$/m);
    expect(metrics).toMatch(/^queue_tokens_issued_total 5$/m);
    expect(metrics).toMatch(/^queue_admissions_total 2$/m);
  });
});
