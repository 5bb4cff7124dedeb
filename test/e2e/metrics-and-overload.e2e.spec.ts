import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { request as rawRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createUser } from '../factories/catalogue.factory';
import { authHeader } from '../support/auth';
import { http, startApp } from '../support/app';
import { eventually } from '../support/eventually';

async function scrape(app: NestFastifyApplication): Promise<string> {
  const response = await request(http(app)).get('/metrics').expect(200);
  return response.text;
}

/** The value of one sample line, e.g. `http_requests_in_flight` or `x_total{code="A"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('should expose Prometheus text with the business counters and gauges when scraped', async () => {
    const response = await request(http(app)).get('/metrics').expect(200);

    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'queue_tokens_issued_total',
      'queue_admissions_total',
      'reservation_holds_total',
      'reservation_expirations_total',
      'payments_total',
      'cash_charges_total',
      'queue_waiting_users',
      'queue_active_users',
      'http_requests_in_flight',
      'process_cpu_seconds_total',
    ]) {
      expect(response.text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'));
    }
  });

  it('should label HTTP metrics by route pattern and count error codes when requests are served', async () => {
    const user = await createUser(app);
    const missing = randomUUID();
    await request(http(app))
      .get(`/users/${user.id}`)
      .set(await authHeader(user.id))
      .expect(200);
    await request(http(app))
      .get(`/users/${missing}`)
      .set(await authHeader(user.id))
      .expect(404);
    await request(http(app)).get(`/no-such-route/${missing}`).expect(404);

    const text = await scrape(app);

    expect(text).not.toContain(user.id);
    expect(text).not.toContain(missing);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="GET",route="/users/:userId",status_code="200"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="GET",route="/users/:userId",status_code="404"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="POST",route="/users",status_code="201"}',
      ),
    ).toBe(1);
    expect(sample(text, 'http_errors_total{code="USER_NOT_FOUND",route="/users/:userId"}')).toBe(1);
    expect(sample(text, 'http_errors_total{code="ROUTE_NOT_FOUND",route="unmatched"}')).toBe(1);
  });
});

describe('overload protection (e2e)', () => {
  it('should shed with 503 and Retry-After, keep probes up and recover when the in-flight limit is reached', async () => {
    const app = await startApp({ OVERLOAD_MAX_IN_FLIGHT: '1', OVERLOAD_RETRY_AFTER_SECONDS: '3' });
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      // A request whose body never finishes arriving occupies the only slot.
      const body = JSON.stringify({
        name: 'slow client',
        email: 'slow@example.test',
        password: 'password-123',
      });
      const slow = rawRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/users',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      const slowStatus = new Promise<number>((resolve, reject) => {
        slow.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        slow.on('error', reject);
      });
      slow.write(body.slice(0, 5));
      await eventually(async () => {
        expect(sample(await scrape(app), 'http_requests_in_flight')).toBe(1);
      });

      const shed = await request(http(app)).get('/concerts');
      expect(shed.status).toBe(503);
      expect(shed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(shed.headers['retry-after']).toBe('3');
      expect(shed.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      await request(http(app)).get('/health/live').expect(200);

      slow.end(body.slice(5));
      await expect(slowStatus).resolves.toBe(201);
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
      const text = await scrape(app);
      expect(sample(text, 'http_overload_rejections_total{reason="in_flight"}')).toBe(1);
      expect(sample(text, 'http_errors_total{code="SERVICE_UNAVAILABLE",route="/concerts"}')).toBe(
        1,
      );
    } finally {
      await app.close();
    }
  });

  it('should shed with 503 when the event loop has been blocked and recover afterwards', async () => {
    const app = await startApp({
      OVERLOAD_MAX_IN_FLIGHT: '0',
      OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '20',
    });
    try {
      // Let boot-time work drain out of the sampled window first.
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
      // Two seconds of synchronous work: the next sample's mean delay is far above 20 ms.
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        // busy
      }

      const shed = await request(http(app)).get('/concerts');
      expect(shed.status).toBe(503);
      expect(shed.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(shed.headers['retry-after']).toBe('1');
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
    } finally {
      await app.close();
    }
  });
});
