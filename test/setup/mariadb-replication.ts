import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection, type Connection } from 'mysql2/promise';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 30_000;

export interface MariaDbServer {
  readonly host: string;
  readonly port: number;
  /** One statement on an admin connection of its own (root, no database selected). */
  sql<T = Record<string, unknown>[]>(query: string, params?: unknown[]): Promise<T>;
}

export interface ReplicationPair {
  readonly primary: MariaDbServer;
  readonly replica: MariaDbServer;
  /** Replica stops applying (it still receives): it falls behind from the next write on. */
  stopApplying(): Promise<void>;
  startApplying(): Promise<void>;
  /** Resolves once the replica has applied everything the primary has committed so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /**
   * A change made on the replica alone, kept out of its binlog (no GTID of its own, so
   * replication carries on in strict mode): data only a read served by the replica can show.
   */
  writeOnReplicaOnly(query: string, params?: unknown[]): Promise<void>;
  /** SIGKILL, as a crashed host: no goodbye to its clients. */
  killReplica(): void;
  /** Stops both servers and removes their data; safe to call twice, and after a failed start. */
  stop(): Promise<void>;
}

interface Started {
  process: ChildProcess;
  /** Holds the data directory, a temporary directory of its own, the socket and the log. */
  base: string;
  server: MariaDbServer;
}

/**
 * A private MariaDB primary and GTID replica on free loopback ports, for the replica tests only
 * (beforeAll/afterAll of their file): the rest of the suite keeps its one shared server.
 */
export async function startReplicationPair(): Promise<ReplicationPair> {
  const started: Started[] = [];
  const stop = async () => {
    const all = started.splice(0);
    await Promise.all(all.map((one) => stopServer(one)));
  };
  // A worker that dies without afterAll must not leave servers behind.
  const onExit = () => started.forEach((one) => one.process.kill('SIGKILL'));
  process.once('exit', onExit);
  try {
    // Both settle before anything is judged, so a failure of one never leaves the other running.
    const [primary, replica] = await settled([startServer(1, started), startServer(2, started)]);
    await primary.server.sql(`CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl'`);
    await primary.server.sql(`GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'`);
    await replica.server.sql(
      `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = 'repl',
         MASTER_PASSWORD = 'repl', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
      [HOST, primary.server.port],
    );
    await replica.server.sql('START SLAVE');
    const pair: ReplicationPair = {
      primary: primary.server,
      replica: replica.server,
      stopApplying: async () => {
        await replica.server.sql('STOP SLAVE SQL_THREAD');
      },
      startApplying: async () => {
        await replica.server.sql('START SLAVE SQL_THREAD');
      },
      caughtUp: (timeoutMs = 10_000) => caughtUp(primary.server, replica.server, timeoutMs),
      writeOnReplicaOnly: async (query, params = []) => {
        const connection = await connect(replica.server.port);
        try {
          await connection.query('SET SESSION sql_log_bin = 0');
          await connection.query(query, params);
        } finally {
          await connection.end().catch(() => connection.destroy());
        }
      },
      killReplica: () => replica.process.kill('SIGKILL'),
      stop: async () => {
        process.removeListener('exit', onExit);
        await stop();
      },
    };
    await waitUntilReplicating(replica.server);
    await pair.caughtUp();
    return pair;
  } catch (error) {
    process.removeListener('exit', onExit);
    await stop();
    throw error;
  }
}

async function startServer(serverId: number, started: Started[]): Promise<Started> {
  const base = await mkdtemp(join(tmpdir(), `mariadb-repl-${serverId}-`));
  const datadir = join(base, 'data');
  // Not the shared /tmp: two bootstraps at once (or anyone tidying /tmp) must not meet there.
  const ownTmp = join(base, 'tmp');
  await mkdir(ownTmp);
  const port = await freePort();
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--tmpdir=${ownTmp}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ]).catch(async (error: unknown) => {
    await rm(base, { recursive: true, force: true });
    throw error;
  });
  const log = openSync(join(base, 'server.log'), 'a');
  const child = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--tmpdir=${ownTmp}`,
      `--socket=${join(base, 'mysqld.sock')}`,
      `--pid-file=${join(base, 'mysqld.pid')}`,
      `--port=${port}`,
      `--bind-address=${HOST}`,
      `--server-id=${serverId}`,
      '--log-bin=binlog',
      '--binlog-format=ROW',
      '--gtid-strict-mode=1',
      '--default-time-zone=+00:00',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--skip-name-resolve',
      '--max-connections=200',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const one: Started = { process: child, base, server: serverAt(port) };
  started.push(one);
  await waitUntilAnswering(one);
  return one;
}

function serverAt(port: number): MariaDbServer {
  return {
    host: HOST,
    port,
    sql: async <T>(query: string, params: unknown[] = []) => {
      const connection = await connect(port);
      try {
        const [rows] = await connection.query(query, params);
        return rows as T;
      } finally {
        await connection.end().catch(() => connection.destroy());
      }
    },
  };
}

function connect(port: number): Promise<Connection> {
  return createConnection({ host: HOST, port, user: 'root', password: '', connectTimeout: 2000 });
}

async function waitUntilAnswering(one: Started): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (one.process.exitCode !== null) {
      throw new Error(`mariadbd exited (${one.process.exitCode}): ${serverLog(one.base)}`);
    }
    try {
      await one.server.sql('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

async function waitUntilReplicating(replica: MariaDbServer): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const [status] = await replica.sql<Record<string, unknown>[]>('SHOW SLAVE STATUS');
    if (status?.Slave_IO_Running === 'Yes' && status.Slave_SQL_Running === 'Yes') return;
    if (Date.now() > deadline) {
      throw new Error(`replication did not start: ${JSON.stringify(status)}`);
    }
    await sleep(100);
  }
}

async function caughtUp(
  primary: MariaDbServer,
  replica: MariaDbServer,
  timeoutMs: number,
): Promise<void> {
  const [{ pos }] = await primary.sql<{ pos: string }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
  const [{ reached }] = await replica.sql<{ reached: number }[]>(
    'SELECT MASTER_GTID_WAIT(?, ?) AS reached',
    [pos, timeoutMs / 1000],
  );
  if (Number(reached) !== 0) throw new Error(`replica did not reach ${pos} in ${timeoutMs} ms`);
}

async function stopServer(one: Started): Promise<void> {
  const { process: child, base } = one;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // No clean shutdown needed: the data goes anyway, and SIGKILL cannot hang.
    child.kill('SIGKILL');
    await exited;
  }
  await rm(base, { recursive: true, force: true });
}

function serverLog(base: string): string {
  try {
    return readFileSync(join(base, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

async function settled<T>(starts: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: START_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
}
