import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports';

const ROOT = join(__dirname, '../..');
// BUILT_SERVER_MAIN runs another build (say, of the previous commit) to compare behaviour.
const MAIN = process.env.BUILT_SERVER_MAIN ?? join(ROOT, 'dist/main.js');

/**
 * The overload guard as deployed (compose's defaults). test-env.ts switches it off for the
 * in-process apps; a test of the built server that is about shedding needs it on.
 */
export const PRODUCTION_OVERLOAD_ENV = {
  OVERLOAD_MAX_IN_FLIGHT: '256',
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '1000',
  OVERLOAD_RETRY_AFTER_SECONDS: '1',
};

export interface BuiltServer {
  url: string;
  port: number;
  /** Its own database (created and migrated by the server). */
  database: string;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process (even a stopped one) and waits for it. Safe to call twice. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test that fails or times out must not leave a server behind, stopped or not.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let started = 0;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `node dist/main.js` (run `npm run build` first), as production runs it, on a free port
 * with a database and Redis prefix of its own (under this test file's, so global teardown drops
 * them), and waits until /health/ready answers 200.
 */
export async function startBuiltServer(
  env: Record<string, string> = {},
  { cpu }: { cpu?: number } = {},
): Promise<BuiltServer> {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run \`npm run build\` before this test`);
  }
  started += 1;
  const port = await freePort();
  const database = `${process.env.DB_NAME}_srv${started}`;
  // Pinned to one core (taskset, where there is one) the server saturates the way a replica with
  // one CPU does, whatever else the machine runs; the load generator keeps the other cores.
  const pin = cpu !== undefined && hasTaskset();
  const command = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', String(cpu), process.execPath, MAIN] : [MAIN];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      DB_NAME: database,
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}srv${started}:`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    // Enough to explain a failure, bounded so a chatty server cannot eat the test's memory.
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const server: BuiltServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    database,
    child,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${server.url}/health/ready`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await server.kill();
  throw new Error(`the built server did not become ready:\n${output}`);
}
