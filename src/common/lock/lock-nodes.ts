import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { boundByDeadline } from '../redis/redis-deadline';

/**
 * Longest wait for one lock node. RedlockMutex waits for every node's answer before it counts
 * votes, so a stalled node (SIGSTOP, a VM pause, a dropped network) costs this on every hold and
 * again on its release. It must stay small next to the seat lock's TTL (5 s), as the Redlock
 * algorithm asks, and far above a healthy node's answer (well under a millisecond on a LAN).
 */
export const LOCK_NODE_COMMAND_TIMEOUT_MS = 500;
const LOCK_NODE_CONNECT_TIMEOUT_MS = 1000;

/** `host:port` of a node URL, for log lines: never the URL itself, which may carry a password. */
export function lockNodeName(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || 6379}`;
}

/**
 * One client per independent lock master, fail-fast like the main client (no offline queue, one
 * retry, command and connect timeouts, reconnecting in the background), so a dead or stalled node
 * costs a bounded time, never a hang. Boot does not wait for every node: a node that is down at
 * start is a node down, which the quorum tolerates, and its client keeps reconnecting.
 */
export async function connectLockNodes(urls: string[], keyPrefix: string): Promise<Redis[]> {
  const logger = new Logger('RedisLockNodes');
  const clients = urls.map((url) => {
    const name = lockNodeName(url);
    const client = new Redis(url, {
      keyPrefix: keyPrefix || undefined,
      lazyConnect: true,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: LOCK_NODE_CONNECT_TIMEOUT_MS,
      commandTimeout: LOCK_NODE_COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      // Closing a client whose node died arms a timer for a socket that never closes again;
      // ioredis's 2 s would keep a stopping process alive that long after a lock node crash.
      disconnectTimeout: LOCK_NODE_COMMAND_TIMEOUT_MS,
    });
    boundByDeadline(client, LOCK_NODE_COMMAND_TIMEOUT_MS);
    let lastError = '';
    client.on('error', (error: Error) => {
      // ioredis emits one error per reconnect attempt; log each distinct cause once.
      if (error.message !== lastError) logger.warn(`Lock node ${name} error: ${error.message}`);
      lastError = error.message;
    });
    client.on('ready', () => {
      if (lastError) logger.log(`Lock node ${name} connection restored`);
      lastError = '';
    });
    return client;
  });
  // A failed first connect rejects, but the client goes on reconnecting on its own.
  await Promise.all(clients.map((client) => client.connect().catch(() => undefined)));
  return clients;
}

export async function closeLockNodes(clients: Redis[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (client.status === 'end') return;
      // QUIT waits for an answer a dead node never gives: bounded by the command timeout.
      await client.quit().catch(() => client.disconnect());
    }),
  );
}
