// A local nginx in front of the bench instances, configured like the compose stack's front door
// (deploy/nginx/templates/default.conf.template): a bounded, kept-alive connection pool per API
// instance, and nginx's own 503 problem+json with Retry-After once every instance is at its limit.
//
// Why it matters: Node (libuv >= 1.45) accepts one new connection per event-loop iteration, so an
// instance saturated by a thousand open connections leaves new ones in the kernel's accept queue
// for seconds (docs/operations.md, "Overload"). A proxy that accepts eagerly and keeps at most
// UPSTREAM_MAX_CONNS connections open to each instance turns that into an instant 503.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Keep in step with deploy/nginx/templates/default.conf.template.
export const UPSTREAM_MAX_CONNS = 64;

export function nginxBinary() {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function config({ port, upstreams, prefix }) {
  const servers = upstreams
    .map((url) => `    server ${new URL(url).host} max_conns=${UPSTREAM_MAX_CONNS};`)
    .join('\n');
  return `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log crit;
worker_rlimit_nofile 65535;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix};
  proxy_temp_path ${prefix};
  upstream api {
    zone api 64k;
${servers}
    keepalive ${UPSTREAM_MAX_CONNS * upstreams.length};
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 15s;
      error_page 502 503 504 = @unavailable;
    }
    location @unavailable {
      default_type application/problem+json;
      add_header Retry-After 2 always;
      return 503 '{"type":"https://concert-booking.dev/problems/service-unavailable","title":"Service temporarily unavailable","status":503,"code":"SERVICE_UNAVAILABLE"}';
    }
  }
}
`;
}

async function waitForPort(port) {
  for (let i = 0; i < 50; i++) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nginx did not listen on ${port}`);
}

/** Starts nginx on `port` in front of `upstreams`; resolves to { url, stop }. */
export async function startFrontProxy({ port, upstreams, cpu }) {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed');
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'bench-nginx-'));
  const file = path.join(prefix, 'nginx.conf');
  await writeFile(file, config({ port, upstreams, prefix }));
  const args = ['-p', prefix, '-c', file, '-g', 'daemon off;'];
  const child =
    cpu === undefined
      ? spawn(binary, args, { stdio: 'ignore' })
      : spawn('taskset', ['-c', String(cpu), binary, ...args], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(3000)]);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
