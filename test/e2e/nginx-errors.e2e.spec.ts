import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nginxAvailable, RunningNginx, startNginx } from '../support/nginx';

// CI installs nginx and sets REQUIRE_NGINX, so there this can only pass or fail.
const describeWithNginx = nginxAvailable() || process.env.REQUIRE_NGINX ? describe : describe.skip;

describeWithNginx("the compose front door's own errors (e2e, nginx)", () => {
  let upstream: Server;
  let nginx: RunningNginx | undefined;
  let reachedUpstream = 0;

  beforeAll(async () => {
    // Stands in for a replica: counts what nginx lets through.
    upstream = createServer((request, response) => {
      reachedUpstream++;
      request.resume();
      request.on('end', () => response.end('{}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('should answer a body over 1 MiB with a problem+json 413 PAYLOAD_TOO_LARGE and never pass it on', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    nginx = await startNginx(port, [(upstream.address() as AddressInfo).port]);

    const response = await fetch(`${nginx.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'too-large-1' },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });

    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('x-request-id')).toBe('too-large-1');
    expect(await response.json()).toEqual({
      type: 'https://concert-booking.dev/problems/payload-too-large',
      title: 'Request body too large',
      status: 413,
      detail: 'The request body exceeds the 64 KiB limit.',
      code: 'PAYLOAD_TOO_LARGE',
      requestId: 'too-large-1',
    });
    expect(reachedUpstream).toBe(0);
  });
});
