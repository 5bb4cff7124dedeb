import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { http, startApp } from '../support/app';
import { accessToken } from '../support/auth';
import { eventually } from '../support/eventually';
import { signedUpUser } from '../factories/user.factory';

async function metrics(app: NestFastifyApplication): Promise<string> {
  return (await request(http(app)).get('/metrics').expect(200)).text;
}

/** Opens a connection, writes `bytes`, waits `afterMs`, then hangs up. */
async function hangUp(port: number, bytes: string, afterMs: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  await sleep(afterMs);
  socket.destroy();
}

describe('client disconnects (e2e)', () => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    app = await startApp();
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it('should count no SERVICE_UNAVAILABLE when a client hangs up halfway through its body', async () => {
    await hangUp(
      port,
      'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{"name":',
      200,
    );
    await sleep(200);

    const text = await metrics(app);
    expect(text).not.toMatch(/^http_errors_total\{code="SERVICE_UNAVAILABLE"/m);
    expect(text).not.toMatch(/status_code="503"/);
    await request(http(app)).get('/concerts').expect(200);
  });

  it('should count no SERVICE_UNAVAILABLE when a client hangs up while its request waits on MySQL', async () => {
    const user = await signedUpUser(app);
    const locker = app.get(DataSource).createQueryRunner();
    await locker.connect();
    try {
      await locker.query('LOCK TABLES users WRITE');
      await hangUp(
        port,
        `GET /users/${user.id} HTTP/1.1\r\nHost: x\r\n` +
          `Authorization: Bearer ${await accessToken(user.id)}\r\n\r\n`,
        300,
      );
      await locker.query('UNLOCK TABLES');
      // The abandoned request finishes on its own; nothing about it is an outage.
      await eventually(async () => {
        expect(await metrics(app)).toMatch(/^http_requests_in_flight 0$/m);
      });
      const text = await metrics(app);
      expect(text).not.toMatch(/^http_errors_total\{code="SERVICE_UNAVAILABLE"/m);
      expect(text).not.toMatch(/status_code="503"/);
    } finally {
      await locker.query('UNLOCK TABLES').catch(() => undefined);
      await locker.release();
    }
  });
});
