import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { http, startApp } from '../support/app';

/** Sends the headers and the first byte of a body, then nothing; resolves when the server ends it. */
function slowBody(port: number): Promise<{ elapsedMs: number; reply: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
          'Content-Length: 100\r\n\r\n{',
      );
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('close', () => resolve({ elapsedMs: Date.now() - started, reply }));
    socket.on('error', reject);
    // The test's own bound: a server without a request timeout would keep the socket forever.
    setTimeout(() => socket.destroy(), 8_000).unref();
  });
}

describe('slow clients (e2e)', () => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    app = await startApp({ HTTP_REQUEST_TIMEOUT_MS: '1500' });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it('should answer 408 and close a connection whose body stalls, within the request timeout plus the 1 s check', async () => {
    const stalled = await Promise.all([slowBody(port), slowBody(port), slowBody(port)]);
    for (const { elapsedMs, reply } of stalled) {
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(elapsedMs).toBeGreaterThanOrEqual(1_400);
      expect(elapsedMs).toBeLessThan(4_000);
    }
    // Everyone else is still served.
    await request(http(app)).get('/health/live').expect(200);
  });
});
