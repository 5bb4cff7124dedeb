import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { QueueService } from '../../src/modules/queue/domain/queue.service';
import { createConcert, createConcertWithSchedule } from '../factories/catalogue.factory';
import { http, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { eventually } from '../support/eventually';
import { activeTokenFor, rewindQueueEntries, runAdmission, Ticket } from '../support/queue';
import { signedUpUser, SignedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

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
      // Long enough that no token runs out by accident on a slow box; the test ends one itself.
      QUEUE_ACTIVE_TTL_SECONDS: '60',
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
    await eventually(
      async () => expect((await status(app, token)).status).toBe('ACTIVE'),
      withinMs,
    );
    return Date.now() - started;
  }

  it('should let two users in, hold three in line, and move the line as tokens end', async () => {
    const { concertId, schedule } = await createConcertWithSchedule(a, { seatCount: 3 });
    const seatsPath = `/concerts/${concertId}/schedules/${schedule.id}/seats`;
    const users: SignedUpUser[] = [];
    for (let i = 0; i < 5; i++) users.push(await signedUpUser(a, { name: `Fan ${i + 1}` }));

    // Fans join one after another, through either instance, each with their own bearer token.
    const tokens: string[] = [];
    for (const [i, user] of users.entries()) {
      const joined = await request(http(i % 2 ? b : a))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId })
        .expect(201);
      expect(joined.body).toMatchObject({ userId: user.id, concertId });
      tokens.push(joined.body.token);
    }
    /** GET the seats as user i with token i (each token is bound to its own user). */
    const seats = async (app: NestFastifyApplication, i: number) =>
      request(http(app))
        .get(seatsPath)
        .set(await authHeader(users[i].id))
        .set('Queue-Token', tokens[i]);
    await waitUntilActive(b, tokens[0], 2000);
    await waitUntilActive(a, tokens[1], 2000);
    // More admission runs on both instances, besides their schedulers': nobody else gets in.
    for (let run = 0; run < 3; run++) await Promise.all([runAdmission(a), runAdmission(b)]);

    const tickets = await Promise.all(tokens.map((token, i) => status(i % 2 ? a : b, token)));
    expect(tickets.every((t) => t.concertId === concertId)).toBe(true);
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
    expect((await seats(b, 0)).status).toBe(200);
    expect((await seats(a, 1)).status).toBe(200);
    const waiting = await seats(a, 2);
    expectProblem(waiting, 403, 'QUEUE_TOKEN_NOT_ACTIVE');

    // A payment ends the first token at once; the head of the line gets its slot within ~2 s.
    await a.get(QueueService).retireToken(tokens[0]);
    const gone = await seats(b, 0);
    expectProblem(gone, 401, 'QUEUE_TOKEN_INVALID');
    expect(await waitUntilActive(b, tokens[2], 2000)).toBeLessThan(2000);
    expect((await seats(b, 2)).status).toBe(200);
    expect((await status(a, tokens[3])).position).toBe(1);

    // The second token runs out its TTL (its expiry moved a minute into the past instead of waited
    // for); the next in line follows within ~2 s, by the schedulers alone.
    await rewindQueueEntries(a, concertId, 'active', [tokens[1]], 120_000);
    await eventually(async () => expect((await seats(a, 1)).status).toBe(401), 10_000, 50);
    expect(await waitUntilActive(a, tokens[3], 2500)).toBeLessThan(2500);
    expect(await status(b, tokens[4])).toMatchObject({ status: 'WAITING', position: 1 });

    // Never more than two ACTIVE at once, however many runs both instances made.
    const actives = (await Promise.all(tokens.slice(2).map((t) => status(a, t)))).filter(
      (t) => t.status === 'ACTIVE',
    );
    expect(actives).toHaveLength(2);
    // The gauges are what this instance's admission job last saw (every 500 ms): the other
    // instance may have admitted since, so they agree within a run or two.
    await eventually(async () => {
      const metrics = (await request(http(a)).get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/^queue_active_users 2$/m);
      expect(metrics).toMatch(/^queue_waiting_users 1$/m);
    });
  });

  describe('POST /queue/tokens with bearer authentication', () => {
    it('should answer 401 AUTH_TOKEN_INVALID without a bearer token', async () => {
      const concert = await createConcert(a);
      const response = await request(http(a))
        .post('/queue/tokens')
        .send({ concertId: concert.id })
        .expect(401);
      expect(response.body.code).toBe('AUTH_TOKEN_INVALID');
      expect(String(response.headers['www-authenticate'])).toMatch(/^Bearer/);
    });

    it('should answer 400 VALIDATION_FAILED for a userId field: the caller is the bearer', async () => {
      const [user, other] = [await signedUpUser(a), await signedUpUser(a)];
      const concert = await createConcert(a);
      const response = await request(http(a))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId: concert.id, userId: other.id })
        .expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    });

    it('should answer 404 CONCERT_NOT_FOUND for a concert that does not exist', async () => {
      const user = await signedUpUser(a);
      const response = await request(http(b))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId: 2_000_000_000 })
        .expect(404);
      expect(response.body.code).toBe('CONCERT_NOT_FOUND');
    });

    it('should return the concertId on issue and on status, and give one token per room', async () => {
      const user = await signedUpUser(a);
      const [first, second] = [await createConcert(a), await createConcert(a)];
      const issued = await request(http(a))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId: first.id })
        .expect(201);
      expect(issued.body).toMatchObject({ userId: user.id, concertId: first.id });

      // GET /queue/status needs no bearer token, only the Queue-Token.
      const polled = await request(http(b))
        .get('/queue/status')
        .set('Queue-Token', issued.body.token)
        .expect(200);
      expect(polled.body).toMatchObject({ token: issued.body.token, concertId: first.id });

      // The same room again: the same token. Another room: a second token, of that room.
      const again = await request(http(b))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId: first.id })
        .expect(200);
      expect(again.body).toMatchObject({ token: issued.body.token, concertId: first.id });
      const elsewhere = await request(http(b))
        .post('/queue/tokens')
        .set(await authHeader(user.id))
        .send({ concertId: second.id })
        .expect(201);
      expect(elsewhere.body).toMatchObject({ userId: user.id, concertId: second.id });
      expect(elsewhere.body.token).not.toBe(issued.body.token);
    });

    it("should answer 401 QUEUE_TOKEN_INVALID for A's ACTIVE token sent with B's bearer token", async () => {
      const [alice, bob] = [await signedUpUser(a), await signedUpUser(a)];
      const { concertId } = await createConcertWithSchedule(a, { seatCount: 1 });
      const aliceToken = await activeTokenFor(a, alice.id, concertId);
      const schedules = `/concerts/${concertId}/schedules`;

      await request(http(b))
        .get(schedules)
        .set(await authHeader(alice.id))
        .set('Queue-Token', aliceToken)
        .expect(200);
      const stolen = await request(http(b))
        .get(schedules)
        .set(await authHeader(bob.id))
        .set('Queue-Token', aliceToken)
        .expect(401);
      expect(stolen.body.code).toBe('QUEUE_TOKEN_INVALID');
      await a.get(QueueService).retireToken(aliceToken, alice.id);
    });
  });

  it('should document the queue endpoints, the poll hint and every error code', async () => {
    const docs = (await request(http(a)).get('/docs-json').expect(200)).body;
    const issue = docs.paths['/queue/tokens'].post.responses;
    expect(Object.keys(issue)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '404', '413', '415', '500', '503']),
    );
    expect(issue['201'].headers['Retry-After']).toBeDefined();
    const poll = docs.paths['/queue/status'].get;
    expect(Object.keys(poll.responses)).toEqual(
      expect.arrayContaining(['200', '401', '500', '503']),
    );
    expect(poll.parameters).toContainEqual(
      expect.objectContaining({ name: 'Queue-Token', in: 'header' }),
    );
    const ticket = docs.components.schemas.QueueTicketResponse;
    expect(ticket.properties.pollAfterSeconds).toBeDefined();
    expect(ticket.properties.concertId).toMatchObject({ type: 'number' });
    expect(ticket.required).toEqual(expect.arrayContaining(['concertId']));
    expect(docs.paths['/queue/tokens'].post.security).toBeDefined();
    expect(docs.paths['/queue/tokens'].post.description).toMatch(/several rooms at once/);
    expect(docs.paths['/queue/events'].get).toBeDefined();
    expect(docs.paths['/admin/concerts/{concertId}/waiting-room'].put).toBeDefined();
  });
});
