import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLongLived } from './overload-protection';

const POLL_MS = 50;
/**
 * A kept-alive connection idle this long while draining is closed. A client that had sent its next
 * request would be busy by then (its bytes are read within an iteration), so closing one that has
 * been quiet this long does not cut off a request on its way in.
 */
const IDLE_CLOSE_MS = 250;

interface Connection {
  busy: number;
  idleSince: number;
}

export interface DrainResult {
  /** Connections still open when the grace ran out, destroyed. */
  forced: number;
  elapsedMs: number;
}

export interface ConnectionDrainer {
  /**
   * Stops accepting, lets every request in progress finish (its answer says `Connection: close`),
   * closes connections as they fall idle, and destroys what is left after `graceMs`. Event
   * streams do not hold the drain up: they end when the application closes.
   */
  drain(graceMs: number): Promise<DrainResult>;
}

/**
 * Tracks the server's connections from the start, so that a shutdown can tell a connection with a
 * request in progress (wait for it) from an idle kept-alive one (close it). Node's own
 * `server.close()` closes idle connections at once, which races a client that is just sending its
 * next request on one: that request is reset although the instance could still have answered it.
 */
export function trackConnections(server: Server): ConnectionDrainer {
  const connections = new Map<Socket, Connection>();
  const pending = new Set<ServerResponse>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    connections.set(socket, { busy: 0, idleSince: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = connections.get(request.socket);
    if (connection) connection.busy++;
    pending.add(response);
    if (draining) response.setHeader('Connection', 'close');
    response.once('close', () => {
      pending.delete(response);
      if (connection) {
        connection.busy--;
        connection.idleSince = performance.now();
      }
    });
  });

  // Work the drain waits for: responses in progress, except event streams.
  const requestsInProgress = () => [...pending].some((response) => !isLongLived(response));
  const carriesStream = (socket: Socket) =>
    [...pending].some((response) => response.socket === socket && isLongLived(response));

  return {
    async drain(graceMs) {
      const started = performance.now();
      draining = true;
      for (const response of pending) {
        if (!response.headersSent) response.setHeader('Connection', 'close');
      }
      // The listening socket only: http.Server#close would also close every idle connection
      // at once (see above). Fastify's own close later finds the server stopped, which it allows.
      NetServer.prototype.close.call(server);
      while (performance.now() - started < graceMs) {
        const now = performance.now();
        for (const [socket, connection] of connections) {
          if (connection.busy === 0 && now - connection.idleSince >= IDLE_CLOSE_MS) {
            socket.destroy();
          }
        }
        const idleLeft = [...connections.values()].some((connection) => connection.busy === 0);
        if (!requestsInProgress() && !idleLeft) break;
        await sleep(POLL_MS);
      }
      const forced = [...connections.keys()].filter((socket) => !carriesStream(socket));
      for (const socket of forced) socket.destroy();
      return { forced: forced.length, elapsedMs: Math.round(performance.now() - started) };
    },
  };
}
