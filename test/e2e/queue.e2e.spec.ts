import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { QueueService } from '../../src/modules/queue/domain/queue.service';
import { createConcertWithSchedule, createUser } from '../factories/catalogue.factory';
import { http, startApp } from '../support/app';

interface Ticket {
  token: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  estimatedWaitSeconds: number;
  activeUntil: string | null;
  pollAfterSeconds: number | null;
}

/**
 * The gating journey on two instances sharing MySQL and Redis, with the real admission scheduler
 * running on both (JOBS_ENABLED=true here), as in production behind a load balancer.
 */
describe('waiting queue gating (e2e)', () => {
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;

  beforeAll(async () => {
    const env = {
      JOBS_ENABLED: 'true',
      QUEUE_MAX_ACTIVE_USERS: '2',
      QUEUE_ACTIVE_TTL_SECONDS: '5',
    };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const status = async (app: NestFastifyApplication, token: string) =>
    (await request(http(app)).get('/queue/status').set('Queue-Token', token).expect(200))
      .body as Ticket;

  /** Polls (as a client following the hint would, but faster) until ACTIVE; returns the delay. */
  async function waitUntilActive(app: NestFastifyApplication, token: string, withinMs: number) {
    const started = Date.now();
    while (Date.now() - started < withinMs) {
      if ((await status(app, token)).status === 'ACTIVE') return Date.now() - started;
      await sleep(100);
    }
    throw new Error(`token not ACTIVE within ${withinMs} ms`);
  }

  it('should let two users in, hold three in line, and move the line as tokens end', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(a, { seatCount: 3 });
    const seatsPath = `/concerts/${concertId}/schedules/${schedule.id}/seats`;
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await createUser(a, `Fan ${i + 1}`));

    // Fans join one after another, through either instance.
    const tokens: string[] = [];
    for (const [i, user] of users.entries()) {
      const joined = await request(http(i % 2 ? b : a))
        .post('/queue/tokens')
        .send({ userId: user.id })
        .expect(201);
      tokens.push(joined.body.token);
    }
    await waitUntilActive(b, tokens[0], 2000);
    await waitUntilActive(a, tokens[1], 2000);
    await sleep(1200); // several more admission runs on both instances: nobody else gets in

    const tickets = await Promise.all(tokens.map((token, i) => status(i % 2 ? a : b, token)));
    expect(tickets.map((t) => [t.status, t.position])).toEqual([
      ['ACTIVE', 0],
      ['ACTIVE', 0],
      ['WAITING', 1],
      ['WAITING', 2],
      ['WAITING', 3],
    ]);
    expect(tickets[0].activeUntil).not.toBeNull();
    expect(tickets[2]).toMatchObject({ activeUntil: null, pollAfterSeconds: expect.any(Number) });
    expect(tickets[4].estimatedWaitSeconds).toBeGreaterThanOrEqual(tickets[2].estimatedWaitSeconds);

    // The gate: ACTIVE tokens reach the seats on either instance, WAITING ones get 403.
    await request(http(b)).get(seatsPath).set('Queue-Token', tokens[0]).expect(200);
    await request(http(a)).get(seatsPath).set('Queue-Token', tokens[1]).expect(200);
    const waiting = await request(http(a)).get(seatsPath).set('Queue-Token', tokens[2]).expect(403);
    expect(waiting.body.code).toBe('QUEUE_TOKEN_NOT_ACTIVE');

    // A payment ends the first token at once; the head of the line gets its slot within ~2 s.
    await a.get(QueueService).expireToken(tokens[0]);
    const gone = await request(http(b)).get(seatsPath).set('Queue-Token', tokens[0]).expect(401);
    expect(gone.body.code).toBe('QUEUE_TOKEN_INVALID');
    expect(await waitUntilActive(b, tokens[2], 2000)).toBeLessThan(2000);
    await request(http(b)).get(seatsPath).set('Queue-Token', tokens[2]).expect(200);
    expect((await status(a, tokens[3])).position).toBe(1);

    // The second token runs out its TTL; the next in line follows within ~2 s of its expiry.
    const until = Date.parse(tickets[1].activeUntil!);
    await sleep(Math.max(0, until - Date.now()));
    const expired = await request(http(a)).get(seatsPath).set('Queue-Token', tokens[1]);
    expect(expired.status).toBe(401);
    expect(await waitUntilActive(a, tokens[3], 2500)).toBeLessThan(2500);
    expect(await status(b, tokens[4])).toMatchObject({ status: 'WAITING', position: 1 });

    // Never more than two ACTIVE at once, however many runs both instances made.
    const actives = (await Promise.all(tokens.slice(2).map((t) => status(a, t)))).filter(
      (t) => t.status === 'ACTIVE',
    );
    expect(actives).toHaveLength(2);
    const metrics = (await request(http(a)).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^queue_active_users 2$/m);
    expect(metrics).toMatch(/^queue_waiting_users 1$/m);
  });

  it('should document the queue endpoints, the poll hint and every error code', async () => {
    const docs = (await request(http(a)).get('/docs-json').expect(200)).body;
    const issue = docs.paths['/queue/tokens'].post.responses;
    expect(Object.keys(issue)).toEqual(
      expect.arrayContaining(['200', '201', '400', '404', '413', '415', '500', '503']),
    );
    expect(issue['201'].headers['Retry-After']).toBeDefined();
    const poll = docs.paths['/queue/status'].get;
    expect(Object.keys(poll.responses)).toEqual(
      expect.arrayContaining(['200', '401', '500', '503']),
    );
    expect(poll.parameters).toContainEqual(
      expect.objectContaining({ name: 'Queue-Token', in: 'header' }),
    );
    expect(docs.components.schemas.QueueTicketResponse.properties.pollAfterSeconds).toBeDefined();
  });
});
