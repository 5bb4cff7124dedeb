import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { authHeader } from '../support/auth';
import { http, startApp } from '../support/app';
import { startDependencyProxies, TcpProxy } from '../support/tcp-proxy';
import { eventually } from '../support/eventually';
import { aUser, signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * MySQL and Redis are reached through TCP proxies so an outage can be staged without stopping
 * the servers other workers share: the app must answer 503 fast and recover on its own.
 */
describe('dependency outage (e2e)', () => {
  let app: NestFastifyApplication;
  let mysqlProxy: TcpProxy;
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    const proxies = await startDependencyProxies();
    ({ mysql: mysqlProxy, redis: redisProxy } = proxies);
    app = await startApp(proxies.env);
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([mysqlProxy.cut(), redisProxy.cut()]);
  });

  it('should answer 503 within 2 s while MySQL is down and recover when it is back', async () => {
    const user = await signedUpUser(app);
    await mysqlProxy.cut();

    const started = Date.now();
    const ready = await request(http(app)).get('/health/ready');
    const read = await request(http(app))
      .get(`/users/${user.id}`)
      .set(await authHeader(user.id));
    const write = await request(http(app))
      .post('/users')
      .send(aUser({ name: 'during outage' }));
    expect(Date.now() - started).toBeLessThan(6_000);
    for (const response of [ready, read, write]) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(read.headers['retry-after']).toBeDefined();
    expect(JSON.stringify(read.body)).not.toMatch(/ECONNREFUSED|3306|127\.0\.0\.1/);

    await mysqlProxy.restore();
    await eventually(async () => {
      await request(http(app))
        .get(`/users/${user.id}`)
        .set(await authHeader(user.id))
        .expect(200);
      await request(http(app)).get('/health/ready').expect(200);
    });
  });

  it('should report not-ready within 2 s while Redis is down and recover when it is back', async () => {
    await redisProxy.cut();
    const started = Date.now();
    const ready = await request(http(app)).get('/health/ready');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({ redis: { status: 'down' }, mysql: { status: 'up' } });

    await redisProxy.restore();
    await eventually(() =>
      request(http(app))
        .get('/health/ready')
        .expect(200)
        .then(() => undefined),
    );
  });
});
