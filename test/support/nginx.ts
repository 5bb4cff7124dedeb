import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function nginxAvailable(): boolean {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface RunningNginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * The compose stack's own nginx site (deploy/nginx/templates/default.conf.template), rendered for
 * loopback: the replicas' names become these ports, Docker's resolver goes, and nginx listens on
 * `port`. Everything else (timeouts, buffering, limits) is exactly what users run.
 */
export async function startNginx(port: number, upstreamPorts: number[]): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const template = readFileSync(
    join(__dirname, '../../deploy/nginx/templates/default.conf.template'),
    'utf8',
  );
  const site = template
    .replace(/^resolver .*$/m, '')
    .replace(/\$\{RATE_LIMIT_PER_CLIENT\}/g, '10000')
    .replace(/\$\{RATE_LIMIT_BURST\}/g, '10000')
    .replace(/listen 3000[^;]*;/, `listen 127.0.0.1:${port};`)
    .replace(/^(\s*server )api-(\d):3000 resolve/gm, (_match, indent: string, n: string) => {
      return `${indent}127.0.0.1:${upstreamPorts[(Number(n) - 1) % upstreamPorts.length]}`;
    });
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  map $http_x_request_id $req_id {
    default $request_id;
    "~^[A-Za-z0-9._-]{1,64}$" $http_x_request_id;
  }
  include ${dir}/site.conf;
}
`,
  );
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
