import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { AddressInfo } from 'node:net';
import { QueueStreamHub } from '../../src/modules/queue/application/queue-stream-hub';
import type { RedisClient } from '../../src/common/redis/redis-client';
import { QueueService } from '../../src/modules/queue/domain/queue.service';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { createConcert } from '../factories/catalogue.factory';
import { startApp } from '../support/app';
import { call } from '../support/booking';
import { nginxAvailable, RunningNginx, startNginx } from '../support/nginx';
import { eventually } from '../support/eventually';
import { resetQueue, rewindQueueEntries, runAdmission } from '../support/queue';
import { openEventStream } from '../support/sse';
import { storedUsers } from '../factories/user.factory';

/** Listening instances (event streams need real sockets), sharing MySQL and Redis. */
async function listeningApps(count: number, env: Record<string, string> = {}) {
  const apps = await Promise.all(Array.from({ length: count }, () => startApp(env)));
  for (const app of apps) await app.listen({ port: 0, host: '127.0.0.1' });
  const urls = apps.map((app) => {
    const address = app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  });
  return { apps, urls };
}

const portOf = (url: string) => Number(new URL(url).port);

// CI installs nginx and sets REQUIRE_NGINX, so there the nginx case can only pass or fail.
const withNginx = nginxAvailable() || process.env.REQUIRE_NGINX ? it : it.skip;
if (!nginxAvailable())
  console.warn('nginx not on PATH: the event-stream test through nginx is skipped');

/**
 * GET /queue/events: the first status at once, the `admitted` event pushed within 1.5 s of an
 * admission made by another instance (directly and through the compose nginx site), `expired`
 * when the token dies, the open stream keeping the entry alive, and the per-instance bound.
 */
describe('queue event streams (e2e)', () => {
  let apps: NestFastifyApplication[] = [];
  let urls: string[] = [];
  let nginx: RunningNginx | undefined;

  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  /** A room with one ACTIVE holder, so the fan waits at position 1 until the holder leaves. */
  async function fanWaitingBehindHolder(app: NestFastifyApplication) {
    await resetQueue(app);
    const concertId = (await createConcert(app)).id;
    const [holder, fan] = await storedUsers(app, 2);
    const held = await call(app, 'POST', '/queue/tokens', { user: holder, body: { concertId } });
    await runAdmission(app);
    const waiting = await call(app, 'POST', '/queue/tokens', { user: fan, body: { concertId } });
    expect(waiting.body).toMatchObject({ status: 'WAITING', position: 1 });
    return { holderToken: held.body.token as string, fanToken: waiting.body.token as string };
  }

  async function expectAdmittedWithin(admitter: NestFastifyApplication, streamUrl: string) {
    const { holderToken, fanToken } = await fanWaitingBehindHolder(admitter);
    const stream = await openEventStream(streamUrl, fanToken);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const first = await stream.next('status', 2000);
    expect(first.data).toMatchObject({ token: fanToken, status: 'WAITING', position: 1 });

    await admitter.get(QueueService).retireToken(holderToken);
    const admittedAt = Date.now();
    expect((await runAdmission(admitter)).admitted).toBe(1);
    const admitted = await stream.next('admitted', 3000);
    expect(admitted.data).toMatchObject({ token: fanToken, status: 'ACTIVE', position: 0 });
    expect(admitted.receivedAt - admittedAt).toBeLessThanOrEqual(1500);
    await stream.ended;
    return admitted.receivedAt - admittedAt;
  }

  it('should push `admitted` within 1.5 s of an admission made by another instance', async () => {
    ({ apps, urls } = await listeningApps(2, { QUEUE_MAX_ACTIVE_USERS: '1' }));
    const delay = await expectAdmittedWithin(apps[0], urls[1]);
    console.log(`admitted event ${delay} ms after the admission on another instance`);
  });

  withNginx('should push `admitted` within 1.5 s through the compose nginx site', async () => {
    ({ apps, urls } = await listeningApps(2, { QUEUE_MAX_ACTIVE_USERS: '1' }));
    nginx = await startNginx(18_000 + Math.floor(Math.random() * 1000), urls.map(portOf));
    // Whichever replica nginx picks, the other one may be the admitter: try both.
    await expectAdmittedWithin(apps[0], nginx.url);
    await expectAdmittedWithin(apps[1], nginx.url);
  });

  it('should send `expired` and end when the token dies, and keep a WAITING entry alive while open', async () => {
    ({ apps, urls } = await listeningApps(2, {
      QUEUE_MAX_ACTIVE_USERS: '1',
      QUEUE_WAITING_IDLE_SECONDS: '30',
    }));
    const { fanToken } = await fanWaitingBehindHolder(apps[0]);
    const stream = await openEventStream(urls[1], fanToken);
    await stream.next('status');
    // Nobody polls: the entry's last sign of life goes 20 s back (of the 30 s idle limit), and the
    // open stream's next tick (every second) must renew it, as a poll would.
    const concertId = Number(fanToken.split('.')[0]);
    await rewindQueueEntries(apps[0], concertId, 'seen', [fanToken], 20_000);
    const redis: RedisClient = apps[0].get(Redis);
    await eventually(async () => {
      const [seconds] = await redis.time();
      const seen = Number(await redis.zscore(roomKeys(concertId).seen, fanToken));
      expect(Number(seconds) * 1000 - seen).toBeLessThan(1_500);
    });
    expect((await runAdmission(apps[0])).dropped).toBe(0);
    expect(stream.events.filter((e) => e.event === 'expired')).toEqual([]);

    await apps[0].get(QueueService).retireToken(fanToken);
    const expired = await stream.next('expired', 3000);
    expect(expired.data).toEqual({ token: fanToken });
    await stream.ended;
  });

  it('should answer 401 for a bad token and 503 with Retry-After past the per-instance bound', async () => {
    ({ apps, urls } = await listeningApps(1, {
      QUEUE_MAX_ACTIVE_USERS: '1',
      QUEUE_SSE_MAX_STREAMS: '1',
    }));
    const refused = await openEventStream(urls[0], 'not-a-token');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });

    const { fanToken } = await fanWaitingBehindHolder(apps[0]);
    const open = await openEventStream(urls[0], fanToken);
    await open.next('status');
    const second = await openEventStream(urls[0], fanToken);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBeDefined();
    expect(second.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(apps[0].get(QueueStreamHub).openStreams).toBe(1);
    open.close();
    await eventually(() =>
      Promise.resolve(expect(apps[0].get(QueueStreamHub).openStreams).toBe(0)),
    );
  });

  it('should end open streams on shutdown instead of waiting on them', async () => {
    ({ apps, urls } = await listeningApps(1, { QUEUE_MAX_ACTIVE_USERS: '1' }));
    const { fanToken } = await fanWaitingBehindHolder(apps[0]);
    const stream = await openEventStream(urls[0], fanToken);
    await stream.next('status');
    const closing = Date.now();
    await apps.pop()!.close();
    await stream.ended;
    expect(Date.now() - closing).toBeLessThan(5000);
  });
});
