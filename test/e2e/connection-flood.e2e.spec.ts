import { randomUUID } from 'node:crypto';
import { ADMIN_KEY } from '../support/app';
import { accessToken } from '../support/auth';
import { BuiltServer, PRODUCTION_OVERLOAD_ENV, startBuiltServer } from '../support/built-server';
import { flood } from '../support/flood';
import { queryDirectly } from '../support/mysql';

const CONNECTIONS = 400;

/** One fan per connection, each with a queue token of one concert: the status-poll flood. */
async function queueTokens(server: BuiltServer, count: number): Promise<string[]> {
  const users = Array.from({ length: count }, (_, i) => [
    randomUUID(),
    `Flood fan ${i}`,
    null,
    null,
    null,
    new Date(),
  ]);
  await queryDirectly(
    server.database,
    'INSERT INTO users (id, name, email, email_key, password_hash, created_at) VALUES ?',
    [users],
  );
  const concert = await fetch(`${server.url}/admin/concerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN_KEY },
    body: JSON.stringify({ title: 'Flood' }),
  });
  const { id: concertId } = (await concert.json()) as { id: number };
  const tokens: string[] = [];
  for (let start = 0; start < users.length; start += 25) {
    const batch = users.slice(start, start + 25);
    tokens.push(
      ...(await Promise.all(
        batch.map(async ([userId]) => {
          const response = await fetch(`${server.url}/queue/tokens`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${await accessToken(String(userId))}`,
            },
            body: JSON.stringify({ concertId }),
          });
          return ((await response.json()) as { token: string }).token;
        }),
      )),
    );
  }
  return tokens;
}

describe('a connection flood straight at one instance (e2e, built server)', () => {
  let server: BuiltServer | undefined;

  afterEach(async () => {
    await server?.kill();
  });

  it('should answer every request within 2 s with 200 or 503 + Retry-After when 400 connections open at once', async () => {
    server = await startBuiltServer(PRODUCTION_OVERLOAD_ENV, { cpu: 0 });
    const tokens = await queueTokens(server, CONNECTIONS);

    // Loopback only, bounded: 400 connections opened at once for 4 s, each polling its token's
    // status back to back, far more than one instance serves.
    const result = await flood({
      port: server.port,
      path: '/queue/status',
      connections: CONNECTIONS,
      durationMs: 4_000,
      timeoutMs: 5_000,
      headers: (n) => ({ 'queue-token': tokens[n] }),
    });

    // Matched as one object, so a failure prints every figure of the run.
    const answeredAs = Object.keys(result.statuses).sort();
    expect({ ...result, answeredAs, withinTwoSeconds: result.maxMs <= 2_000 }).toMatchObject({
      errors: {},
      timeouts: 0,
      shedWithoutRetryAfter: 0,
      withinTwoSeconds: true,
    });
    expect(answeredAs.every((status) => ['200', '429', '503'].includes(status))).toBe(true);
    expect(result.statuses[200]).toBeGreaterThan(0);
  });
});
