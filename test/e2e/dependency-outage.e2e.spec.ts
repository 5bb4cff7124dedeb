import request from 'supertest';
import { authHeader } from '../support/auth';
import { http } from '../support/app';
import { AppBehindProxies, startAppBehindProxies } from '../support/tcp-proxy';
import { eventually } from '../support/eventually';
import { aUser, signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * MySQL and Redis are reached through TCP proxies so an outage can be staged without stopping
 * the servers other workers share: the app must answer 503 fast and recover on its own.
 */
describe('dependency outage (e2e)', () => {
  let stage: AppBehindProxies;

  beforeAll(async () => {
    stage = await startAppBehindProxies();
  });

  afterAll(async () => {
    await stage?.stop();
  });

  it('should answer 503 within 2 s while MySQL is down and recover when it is back', async () => {
    const user = await signedUpUser(stage.app);
    await stage.mysql.cut();

    const started = Date.now();
    const ready = await request(http(stage.app)).get('/health/ready');
    const read = await request(http(stage.app))
      .get(`/users/${user.id}`)
      .set(await authHeader(user.id));
    const write = await request(http(stage.app))
      .post('/users')
      .send(aUser({ name: 'during outage' }));
    expect(Date.now() - started).toBeLessThan(6_000);
    for (const response of [ready, read, write]) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(read.headers['retry-after']).toBeDefined();
    expect(JSON.stringify(read.body)).not.toMatch(/ECONNREFUSED|3306|127\.0\.0\.1/);

    await stage.mysql.restore();
    await eventually(async () => {
      await request(http(stage.app))
        .get(`/users/${user.id}`)
        .set(await authHeader(user.id))
        .expect(200);
      await request(http(stage.app)).get('/health/ready').expect(200);
    });
  });

  it('should report not-ready within 2 s while Redis is down and recover when it is back', async () => {
    await stage.redis.cut();
    const started = Date.now();
    const ready = await request(http(stage.app)).get('/health/ready');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({ redis: { status: 'down' }, mysql: { status: 'up' } });

    await stage.redis.restore();
    await eventually(() =>
      request(http(stage.app))
        .get('/health/ready')
        .expect(200)
        .then(() => undefined),
    );
  });
});
