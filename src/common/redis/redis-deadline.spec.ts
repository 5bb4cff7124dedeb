import Redis from 'ioredis';
import { createServer, Server, Socket } from 'node:net';
import { Deadline, DeadlineExceededError, runWithDeadline } from '../deadline/deadline';
import { boundByDeadline } from './redis-deadline';

const COMMAND_TIMEOUT_MS = 2_000;

/**
 * A "Redis" that answers +OK to the handshake's commands and then stalls: it keeps the
 * connection and never answers again.
 */
describe('boundByDeadline', () => {
  let server: Server;
  const sockets: Socket[] = [];
  let answering = true;
  let client: Redis;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk: Buffer) => {
        if (!answering) return;
        const commands = chunk.toString('latin1').match(/(^|\r\n)\*\d+\r\n/g) ?? [];
        socket.write('+OK\r\n'.repeat(commands.length));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  beforeEach(async () => {
    const { port } = server.address() as { port: number };
    client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    boundByDeadline(client, COMMAND_TIMEOUT_MS);
    answering = true;
    await client.connect();
    answering = false;
  });

  afterEach(() => client.disconnect());

  afterAll(async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('should fail a command made late in a request at the deadline, not at the command timeout', async () => {
    const started = Date.now();
    await expect(runWithDeadline(new Deadline(50), () => client.get('k'))).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('should not send a command once the deadline has passed', async () => {
    const sent = jest.spyOn(client, 'sendCommand');
    await expect(runWithDeadline(new Deadline(-1), () => client.set('k', 'v'))).rejects.toThrow(
      DeadlineExceededError,
    );
    expect(sent).not.toHaveBeenCalled();
  });

  it('should leave a command made early to the command timeout, at no extra cost', async () => {
    const pending = runWithDeadline(new Deadline(60_000), () => client.get('k'));
    await expect(pending).rejects.toThrow('Command timed out');
  });

  it('should bound scripts defined after it too', async () => {
    client.defineCommand('probe', { numberOfKeys: 1, lua: 'return 1' });
    const probe = (client as unknown as { probe: (key: string) => Promise<unknown> }).probe;
    await expect(
      runWithDeadline(new Deadline(30), () => probe.call(client, 'k')),
    ).rejects.toBeInstanceOf(DeadlineExceededError);
  });
});
