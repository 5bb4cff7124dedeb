import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { QueueScheduler } from '../../src/modules/queue/presentation/queue.scheduler';
import { http, startApp } from '../support/app';
import { eventually } from '../support/eventually';
import { authHeader } from '../support/auth';
import { activeTokenFor, runAdmission } from '../support/queue';
import { startRedisProxy, TcpProxy } from '../support/tcp-proxy';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * Redis is the queue's only store. While it is unreachable (a TCP proxy is cut, the server other
 * workers share stays up) every queue call, the guard included, answers 503 fast instead of
 * letting anyone through; when it is back the same tokens work again.
 */
describe('waiting queue while Redis is down (e2e)', () => {
  let app: NestFastifyApplication;
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    const redis = await startRedisProxy();
    redisProxy = redis.proxy;
    app = await startApp({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await app.close();
    await redisProxy.cut();
  });

  it('should answer 503 with Retry-After on issue, poll and guarded calls, then recover', async () => {
    const user = await signedUpUser(app);
    const bearer = await authHeader(user.id);
    const { concertId, schedule } = await createConcertWithSchedule(app, { seatCount: 1 });
    const token = await activeTokenFor(app, user.id, concertId);
    const seats = `/concerts/${concertId}/schedules/${schedule.id}/seats`;

    await redisProxy.cut();
    const started = Date.now();
    const responses = [
      await request(http(app)).post('/queue/tokens').set(bearer).send({ concertId }),
      await request(http(app)).get('/queue/status').set('Queue-Token', token),
      await request(http(app)).get(seats).set(bearer).set('Queue-Token', token),
    ];
    expect(Date.now() - started).toBeLessThan(7_000);
    for (const response of responses) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBeDefined();
    }
    // An admission run fails too; the scheduler logs it and tries again on its next tick.
    await expect(runAdmission(app)).rejects.toBeDefined();
    await expect(app.get(QueueScheduler).tick()).resolves.toBeUndefined();

    await redisProxy.restore();
    await eventually(
      async () => request(http(app)).get('/queue/status').set('Queue-Token', token).expect(200),
      10_000,
      200,
    );
    await request(http(app)).get(seats).set(bearer).set('Queue-Token', token).expect(200);
    // The same token, with the concert it was issued for, survives the outage.
    const again = await request(http(app))
      .post('/queue/tokens')
      .set(bearer)
      .send({ concertId })
      .expect(200);
    expect(again.body).toMatchObject({ token, concertId, status: 'ACTIVE' });
  });
});
