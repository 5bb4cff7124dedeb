import { createServer, Server, Socket, connect } from 'node:net';

/**
 * A TCP pass-through used to simulate a dependency outage: `cut()` drops every connection and
 * refuses new ones, `restore()` lets traffic through again, without touching the real server
 * other test workers are using.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }
}

/**
 * Proxies in front of the test MySQL and Redis, and the env that points an app at them, so a
 * test can stage an outage of either without touching the servers other workers share.
 */
export async function startDependencyProxies(): Promise<{
  mysql: TcpProxy;
  redis: TcpProxy;
  env: Record<string, string>;
}> {
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const mysql = new TcpProxy(
    process.env.DB_HOST ?? '127.0.0.1',
    Number(process.env.DB_PORT ?? 3306),
  );
  const redis = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  const [mysqlPort, redisPort] = await Promise.all([mysql.start(), redis.start()]);
  redisUrl.hostname = '127.0.0.1';
  redisUrl.port = String(redisPort);
  return {
    mysql,
    redis,
    env: { DB_HOST: '127.0.0.1', DB_PORT: String(mysqlPort), REDIS_URL: redisUrl.toString() },
  };
}
