import { request } from 'node:http';

/**
 * True when a Docker engine answers /_ping. The docker CLI may exist without an engine (as on
 * the CI machine), so the engine itself is asked, over DOCKER_HOST or the default socket.
 */
export function dockerEngineReachable(timeoutMs = 1500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  const target =
    host && host.startsWith('tcp://')
      ? (() => {
          const url = new URL(host.replace('tcp://', 'http://'));
          return { host: url.hostname, port: Number(url.port || 2375) };
        })()
      : {
          socketPath: host?.startsWith('unix://')
            ? host.slice('unix://'.length)
            : '/var/run/docker.sock',
        };
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
