import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, Server, Socket, connect } from 'node:net';
import { startApp } from './app';

/** One proxied connection, and what a stall is holding back on it. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** Client → server bytes the stall took in but has not delivered. */
  held: Buffer[];
  /** Server → client bytes likewise. */
  heldBack: Buffer[];
  clientReset: boolean;
  clientClosed: boolean;
}

/** How long `resume()` lets paused sockets report what happened to them during the stall. */
const SETTLE_MS = 50;

/**
 * A TCP pass-through used to simulate a dependency outage without touching the real server
 * other test workers are using:
 * - `cut()` drops every connection and refuses new ones, `restore()` lets traffic through again;
 * - `stall()` stops forwarding in both directions without closing anything, as a frozen
 *   network path or a paused peer does: connections stay open, new ones are accepted and go
 *   nowhere, and nothing is read; `stallOn(pattern)` does the same the moment a client sends
 *   bytes matching `pattern` (e.g. /COMMIT/), holding those bytes back; `resume()` ends it.
 *
 * Bytes a stall holds back count as still on their way from the client, as in a kernel's
 * queue: if the client closed cleanly (FIN) meanwhile they are delivered, then the close; if it
 * reset the connection (RST) they are dropped, exactly as a reset discards queued data.
 */
export class TcpProxy {
  private server?: Server;
  private readonly links = new Set<Link>();
  private stalled = false;
  private trigger?: RegExp;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.link(client));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.stalled = false;
    this.trigger = undefined;
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  /** Stops forwarding now, in both directions, on every connection, old and new. */
  stall(): void {
    this.stalled = true;
    for (const link of this.links) {
      link.client.pause();
      link.upstream.pause();
    }
  }

  /** Stalls the moment a client sends bytes matching `pattern`; those bytes are held back. */
  stallOn(pattern: RegExp): void {
    this.trigger = pattern;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  /**
   * Ends the stall. Paused client sockets are read again first, so that a connection the client
   * reset or closed during the stall is known before anything held back is delivered.
   */
  async resume(): Promise<void> {
    this.trigger = undefined;
    for (const link of this.links) link.client.resume();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    this.stalled = false;
    for (const link of [...this.links]) {
      const held = Buffer.concat(link.held);
      link.held = [];
      if (link.clientReset) {
        link.upstream.destroy();
        continue;
      }
      if (held.length > 0) link.upstream.write(held);
      if (link.clientClosed) {
        link.upstream.end();
        continue;
      }
      const back = Buffer.concat(link.heldBack);
      link.heldBack = [];
      if (back.length > 0) link.client.write(back);
      link.upstream.resume();
    }
  }

  private link(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const link: Link = {
      client,
      upstream,
      held: [],
      heldBack: [],
      clientReset: false,
      clientClosed: false,
    };
    this.links.add(link);
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }

    client.on('data', (chunk: Buffer) => {
      if (this.trigger?.test(chunk.toString('latin1'))) this.stall();
      if (this.stalled) link.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.stalled) link.heldBack.push(chunk);
      else client.write(chunk);
    });

    client.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') link.clientReset = true;
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => {
      link.clientClosed = true;
      // During a stall the fate of the held bytes is settled by resume().
      if (!this.stalled) {
        this.links.delete(link);
        upstream.destroy();
      }
    });
    upstream.on('close', () => {
      this.links.delete(link);
      client.destroy();
    });
  }
}

/**
 * A proxy in front of the test Redis and the REDIS_URL through it. `port` pins the proxy's port
 * (0: any free one).
 */
export async function startRedisProxy(port = 0): Promise<{ proxy: TcpProxy; url: string }> {
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  redisUrl.hostname = '127.0.0.1';
  redisUrl.port = String(await proxy.start(port));
  return { proxy, url: redisUrl.toString() };
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
  const mysql = new TcpProxy(
    process.env.DB_HOST ?? '127.0.0.1',
    Number(process.env.DB_PORT ?? 3306),
  );
  const [mysqlPort, redis] = await Promise.all([mysql.start(), startRedisProxy()]);
  return {
    mysql,
    redis: redis.proxy,
    env: { DB_HOST: '127.0.0.1', DB_PORT: String(mysqlPort), REDIS_URL: redis.url },
  };
}

export interface AppBehindProxies {
  app: NestFastifyApplication;
  mysql: TcpProxy;
  redis: TcpProxy;
  /** Closes the app, then the proxies (whatever the test left cut or stalled). */
  stop(): Promise<void>;
}

/** One app that reaches MySQL and Redis only through proxies of its own (startDependencyProxies). */
export async function startAppBehindProxies(
  env: Record<string, string> = {},
): Promise<AppBehindProxies> {
  const proxies = await startDependencyProxies();
  const app = await startApp({ ...proxies.env, ...env });
  return {
    app,
    mysql: proxies.mysql,
    redis: proxies.redis,
    async stop() {
      await app.close();
      await Promise.all([proxies.mysql.cut(), proxies.redis.cut()]);
    },
  };
}
