import { createServer } from 'node:net';

/**
 * A loopback port nobody listens on right now, for a server a test starts itself. Another
 * process may take it before that server binds, which on a test machine is rare enough.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
