import { connect } from 'node:net';

export interface FloodOptions {
  port: number;
  path: string;
  connections: number;
  durationMs: number;
  /** An answer slower than this counts as a timeout (and its connection is dropped). */
  timeoutMs: number;
  /** Extra request headers for the n-th connection (a Queue-Token, say). */
  headers?: (connection: number) => Record<string, string>;
}

export interface FloodResult {
  requests: number;
  statuses: Record<number, number>;
  /** 429/503 answers without Retry-After. */
  shedWithoutRetryAfter: number;
  timeouts: number;
  /** Socket errors by code (ECONNRESET, EPIPE, ...). */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The slowest first answer on a connection, from the moment it was opened: the accept wait. */
  firstAnswerMaxMs: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

/**
 * `connections` kept-alive connections opened at once, each sending GET `path` back to back
 * (the next as soon as the previous is answered) until `durationMs` has passed. Raw sockets and a
 * minimal response parser, so the generator stays cheap next to the server it measures; the
 * latency of each request includes any wait for the server to accept the connection.
 */
export async function flood(options: FloodOptions): Promise<FloodResult> {
  const result: FloodResult = {
    requests: 0,
    statuses: {},
    shedWithoutRetryAfter: 0,
    timeouts: 0,
    errors: {},
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    firstAnswerMaxMs: 0,
  };
  const latencies: number[] = [];
  const firstAnswers: number[] = [];
  const endAt = performance.now() + options.durationMs;
  const requestFor = (n: number) => {
    const extra = Object.entries(options.headers?.(n) ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return `GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
  };

  const connection = (request: string) =>
    new Promise<void>((resolve) => {
      const openedAt = performance.now();
      let sentAt = openedAt;
      let first = true;
      let buffer = '';
      let timer: NodeJS.Timeout | undefined;
      const socket = connect(options.port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      const send = () => {
        sentAt = performance.now();
        result.requests++;
        socket.write(request);
        timer = setTimeout(() => {
          result.timeouts++;
          socket.destroy();
        }, options.timeoutMs);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (;;) {
          const headEnd = buffer.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buffer.slice(0, headEnd);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < headEnd + 4 + length) return;
          buffer = buffer.slice(headEnd + 4 + length);
          clearTimeout(timer);
          const now = performance.now();
          const status = Number(head.slice(9, 12));
          result.statuses[status] = (result.statuses[status] ?? 0) + 1;
          latencies.push(now - sentAt);
          if (first) firstAnswers.push(now - openedAt);
          first = false;
          if ((status === 429 || status === 503) && !/\r\nretry-after:/i.test(head)) {
            result.shedWithoutRetryAfter++;
          }
          if (now >= endAt || /\r\nconnection: *close/i.test(head)) {
            socket.end();
            return;
          }
          send();
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message;
        result.errors[code] = (result.errors[code] ?? 0) + 1;
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  await Promise.all(
    Array.from({ length: options.connections }, async (_, n) => {
      const request = requestFor(n);
      while (performance.now() < endAt) await connection(request);
    }),
  );
  latencies.sort((a, b) => a - b);
  firstAnswers.sort((a, b) => a - b);
  result.p50Ms = quantile(latencies, 0.5);
  result.p99Ms = quantile(latencies, 0.99);
  result.maxMs = quantile(latencies, 1);
  result.firstAnswerMaxMs = quantile(firstAnswers, 1);
  return result;
}
