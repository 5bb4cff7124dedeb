import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HOST = '127.0.0.1';
/** The cluster bus listens on the client port + 10000 (Redis's fixed offset). */
const BUS_OFFSET = 10_000;
const READY_TIMEOUT_MS = 30_000;

export interface RedisClusterHandle {
  /** `host:port` of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  /** SIGKILLs one master (a crash); its slots are down until `restartNode`. */
  killNode(index: number): Promise<void>;
  /** Starts a killed master again from its cluster config: same id, same slots, no data. */
  restartNode(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of `masters` masters without replicas on loopback ports, in temporary
 * directories and without persistence: `redis-cli --cluster create` assigns the slots, and the
 * promise resolves once every node reports `cluster_state:ok` and knows every other. Whatever
 * fails on the way stops what was started; a process that exits without `stop()` kills them too.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const processes: ChildProcess[] = [];
  const dirs: string[] = [];
  const killAll = () => processes.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killAll);
    await Promise.all(processes.map(stopProcess));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    const ports = await freePorts(masters);
    for (const port of ports) {
      const dir = await mkdtemp(join(tmpdir(), `redis-cluster-${port}-`));
      dirs.push(dir);
      processes.push(startNode(port, dir));
    }
    const nodes = ports.map((port) => `${HOST}:${port}`);
    await Promise.all(ports.map((port) => waitFor(port, () => cli(port, 'PING'), /PONG/)));
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: READY_TIMEOUT_MS },
    );
    const clusterOk = new RegExp(`cluster_state:ok[\\s\\S]*cluster_known_nodes:${masters}\\b`);
    const allOk = () =>
      Promise.all(
        ports.map((port) => waitFor(port, () => cli(port, 'CLUSTER', 'INFO'), clusterOk)),
      );
    await allOk();
    const killNode = async (index: number) => {
      const child = processes[index];
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    const restartNode = async (index: number) => {
      processes[index] = startNode(ports[index], dirs[index]);
      await allOk();
    };
    return { nodes, killNode, restartNode, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startNode(port: number, dir: string): ChildProcess {
  // Args are given as (flag, value) pairs so that `--save ''` reaches Redis as an empty value.
  return spawn(
    'redis-server',
    [
      ['--port', String(port)],
      ['--bind', HOST],
      ['--cluster-enabled', 'yes'],
      ['--cluster-config-file', join(dir, 'nodes.conf')],
      // How long a silent master takes to be declared failed (then the cluster answers CLUSTERDOWN).
      ['--cluster-node-timeout', '2000'],
      ['--dir', dir],
      ['--save', ''],
      ['--appendonly', 'no'],
      ['--protected-mode', 'no'],
      ['--daemonize', 'no'],
    ].flat(),
    { stdio: 'ignore' },
  );
}

async function cli(port: number, ...command: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...command], {
    timeout: 5_000,
  });
  return stdout;
}

async function waitFor(port: number, probe: () => Promise<string>, ok: RegExp): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await probe().catch((error: Error) => error.message);
    if (ok.test(last)) return;
    await sleep(100);
  }
  throw new Error(`redis cluster node ${port} not ready: ${last.slice(0, 300)}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Ports free on loopback whose bus port (+10000) is free too. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    // Below the ephemeral range (32768+ on Linux) and with room for the bus port under 65536.
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (ports.includes(port)) continue;
    if ((await isFree(port)) && (await isFree(port + BUS_OFFSET))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}
