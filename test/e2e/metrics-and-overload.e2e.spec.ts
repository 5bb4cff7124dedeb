import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { request as rawRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { authHeader } from '../support/auth';
import { http, startApp } from '../support/app';
import { eventually } from '../support/eventually';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

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
    const user = await signedUpUser(app);
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

/** Sends a request's headers and the first bytes of its body, then nothing (until `finish`). */
function slowBody(port: number) {
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
  const status = new Promise<number>((resolve, reject) => {
    slow.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    slow.on('error', reject);
  });
  slow.write(body.slice(0, 5));
  return { status, finish: () => slow.end(body.slice(5)) };
}

describe('overload protection (e2e)', () => {
  it('should report both shedding reasons at 0 when nothing has been shed yet', async () => {
    const app = await startApp();
    try {
      const text = await scrape(app);
      expect(sample(text, 'http_overload_rejections_total{reason="in_flight"}')).toBe(0);
      expect(sample(text, 'http_overload_rejections_total{reason="event_loop_delay"}')).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('should shed with 503 and Retry-After, keep probes up and recover when the in-flight limit is reached', async () => {
    const app = await startApp({ OVERLOAD_MAX_IN_FLIGHT: '1', OVERLOAD_RETRY_AFTER_SECONDS: '3' });
    const user = await signedUpUser(app);
    // A request stuck behind a table lock holds the only slot for as long as the test likes.
    const locker = app.get(DataSource).createQueryRunner();
    await locker.connect();
    try {
      await locker.query('LOCK TABLES users WRITE');
      const held = request(http(app))
        .get(`/users/${user.id}`)
        .set(await authHeader(user.id))
        .then((response) => response.status);
      await eventually(async () => {
        expect(sample(await scrape(app), 'http_requests_in_flight')).toBe(1);
      });

      const shed = await request(http(app)).get('/concerts');
      expect(shed.status).toBe(503);
      expect(shed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(shed.headers['retry-after']).toBe('3');
      expect(shed.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      await request(http(app)).get('/health/live').expect(200);

      await locker.query('UNLOCK TABLES');
      await expect(held).resolves.toBe(200);
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
      const text = await scrape(app);
      expect(sample(text, 'http_overload_rejections_total{reason="in_flight"}')).toBe(1);
      expect(sample(text, 'http_errors_total{code="SERVICE_UNAVAILABLE",route="/concerts"}')).toBe(
        1,
      );
    } finally {
      await locker.query('UNLOCK TABLES').catch(() => undefined);
      await locker.release();
      await app.close();
    }
  });

  it('should not count a request whose body is still arriving when the in-flight limit is 1', async () => {
    const app = await startApp({ OVERLOAD_MAX_IN_FLIGHT: '1' });
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const slow = slowBody(port);
      // The dribbling request is not in flight, so it does not turn everyone else away.
      await request(http(app)).get('/concerts').expect(200);
      expect(sample(await scrape(app), 'http_requests_in_flight')).toBe(0);

      slow.finish();
      await expect(slow.status).resolves.toBe(201);
      expect(sample(await scrape(app), 'http_overload_rejections_total{reason="in_flight"}')).toBe(
        0,
      );
    } finally {
      await app.close();
    }
  });

  it('should shed with 503 when the event loop stays late and recover afterwards', async () => {
    const app = await startApp({
      OVERLOAD_MAX_IN_FLIGHT: '0',
      OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '20',
    });
    try {
      // Let boot-time work drain out of the sampled window first.
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
      // Sustained saturation: every iteration of the loop runs 100 ms late, for 1.5 s.
      let saturated = true;
      const hog = (async () => {
        const until = Date.now() + 1_500;
        while (saturated && Date.now() < until) {
          const chunk = Date.now() + 100;
          while (Date.now() < chunk) {
            // busy
          }
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      })();
      // Shed as soon as the sampled delay shows it, well inside the 1.5 s of saturation.
      const shed = await eventually(
        async () => {
          const reply = await request(http(app)).get('/concerts');
          expect(reply.status).toBe(503);
          return reply;
        },
        1_000,
        50,
      );
      saturated = false;
      await hog;
      expectProblem(shed, 503, 'SERVICE_UNAVAILABLE');
      expect(shed.headers['retry-after']).toBe('1');
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
    } finally {
      await app.close();
    }
  });

  it('should not shed after one long pause of the event loop when nothing is queued', async () => {
    // 200 ms: ten times below the pause, and far enough above the ordinary jitter of a busy CI
    // box (two Jest workers on two cores) that only the pause itself could trip it.
    const app = await startApp({
      OVERLOAD_MAX_IN_FLIGHT: '0',
      OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '200',
    });
    try {
      await eventually(async () => {
        await request(http(app)).get('/concerts').expect(200);
      });
      // One 2 s stall, as a GC pause or a frozen VM would cause, then the loop is punctual.
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        // busy
      }

      await request(http(app)).get('/concerts').expect(200);
      const text = await scrape(app);
      expect(sample(text, 'http_overload_rejections_total{reason="event_loop_delay"}')).toBe(0);
    } finally {
      await app.close();
    }
  });
});
