import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { eventually } from './eventually';
import { freePort } from './ports';

/** A private redis-server on a free loopback port: no persistence, killed with the test run. */
export class RedisMaster {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  static async start(): Promise<RedisMaster> {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    // A test run that dies must not leave a server behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    const master = new RedisMaster(child, port);
    await eventually(async () => {
      if (master.exited) throw new Error(`redis-server on port ${port} exited at start`);
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
      } finally {
        probe.disconnect();
      }
    }, 10_000);
    return master;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** A crash: no shutdown, no goodbye to its clients. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Stops every master that is still running (for afterAll, whatever the tests did to them). */
export async function stopMasters(masters: RedisMaster[]): Promise<void> {
  await Promise.all(masters.map((master) => master.kill()));
}
