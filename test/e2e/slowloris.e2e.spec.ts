import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { http, startApp } from '../support/app';

const REQUEST_TIMEOUT_MS = 2_000;

interface Dribbler {
  /** Resolves when the server closes the connection: what it answered and when. */
  closed: Promise<{ elapsedMs: number; reply: string; bytesSent: number }>;
}

/**
 * A slowloris client: sends `head` at once, then `rest` one byte every `everyMs`, never finishing
 * the request, for as long as the server keeps the connection open (the test bounds it at 8 s).
 */
function dribble(port: number, head: string, rest: string, everyMs = 100): Dribbler {
  const started = Date.now();
  let reply = '';
  let sent = 0;
  const socket = connect(port, '127.0.0.1', () => {
    if (head) socket.write(head);
    sent += head.length;
  });
  let next = 0;
  const timer = setInterval(() => {
    if (next < rest.length && socket.writable) {
      socket.write(rest[next++]);
      sent++;
    }
  }, everyMs);
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (reply += chunk));
  socket.on('error', () => undefined);
  const bound = setTimeout(() => socket.destroy(), 8_000);
  const closed = new Promise<{ elapsedMs: number; reply: string; bytesSent: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(bound);
      resolve({ elapsedMs: Date.now() - started, reply, bytesSent: sent });
    }),
  );
  return { closed };
}

// Headers that never end, and a complete set of headers whose body never ends.
const SLOW_HEADERS: [string, string] = [
  'GET /concerts HTTP/1.1\r\n',
  'Host: localhost\r\nX-Padding: ' + 'a'.repeat(500),
];
const SLOW_BODY: [string, string] = [
  'POST /users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
    'Content-Length: 600\r\n\r\n',
  '{"name":"' + 'a'.repeat(580),
];

describe('slowloris (e2e)', () => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    // A small in-flight limit: were the dribbling requests counted, they would lock everyone out.
    app = await startApp({
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      OVERLOAD_MAX_IN_FLIGHT: '4',
    });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it('should keep serving other clients and cut every dribbling socket off within the request timeout when a few sockets send a byte every 100 ms', async () => {
    const dribblers = [
      ...Array.from({ length: 3 }, () => dribble(port, ...SLOW_HEADERS)),
      ...Array.from({ length: 3 }, () => dribble(port, ...SLOW_BODY)),
      // Connects and sends nothing at all.
      dribble(port, '', ''),
    ];

    // Meanwhile everyone else is served at once, again and again.
    const until = Date.now() + REQUEST_TIMEOUT_MS;
    let served = 0;
    while (Date.now() < until) {
      const started = Date.now();
      const responses = await Promise.all(
        Array.from({ length: 4 }, () => request(http(app)).get('/concerts')),
      );
      for (const response of responses) expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_000);
      served += responses.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(served).toBeGreaterThanOrEqual(20);

    // Sending bytes does not buy time: the bound is on the whole request, checked every second.
    for (const { elapsedMs, reply, bytesSent } of await Promise.all(
      dribblers.map((d) => d.closed),
    )) {
      expect(elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
      if (bytesSent > 0) expect(reply).toMatch(/^HTTP\/1\.1 408/);
    }
  });
});
