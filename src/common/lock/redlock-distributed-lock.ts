import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { RedlockMutex } from 'redis-semaphore';
import { MetricsService } from '../metrics/metrics.service';
import { DistributedLock, LockBusyError } from './distributed-lock';
import { closeLockNodes } from './lock-nodes';

// One warning per outage instead of one per request while the quorum is unreachable.
const OUTAGE_LOG_INTERVAL_MS = 10_000;

type RedlockClient = ConstructorParameters<typeof RedlockMutex>[0][number];

/**
 * DistributedLock over N independent Redis masters with redis-semaphore's RedlockMutex: the lock
 * is taken when a majority (N/2 + 1) of the nodes accepted `SET key id NX PX ttl`, and given back
 * with a compare-and-delete on every node. One node down (a majority still answering) locks as
 * usual: a node that does not answer is a vote not cast.
 *
 * RedlockMutex counts an erroring node like a node where the key is taken, so `false` alone
 * cannot tell "seat busy" from "nodes down". Each call therefore watches its own SETs: when fewer
 * than a majority answered at all, the lock cannot be decided and it fails open, as the
 * single-node lock does when Redis is down: `fn` runs on the database fence alone (conditional
 * UPDATE, unique key), which keeps the outcome exclusive by itself; only contention on MySQL grows.
 *
 * It is a shield, never the guarantee (docs/reservations.md): there is no fencing token, and a
 * holder paused past the TTL, or nodes whose clocks run fast, can let a second holder in.
 */
export class RedlockDistributedLock extends DistributedLock implements OnApplicationShutdown {
  private readonly logger = new Logger(RedlockDistributedLock.name);
  private readonly quorum: number;
  private lastOutageLog = 0;
  private readonly failedOpen?: Counter;

  constructor(
    private readonly nodes: Redis[],
    metrics?: MetricsService,
  ) {
    super();
    if (nodes.length === 0) throw new Error('RedlockDistributedLock needs at least one node');
    this.quorum = Math.floor(nodes.length / 2) + 1;
    if (metrics) this.failedOpen = this.registerMetrics(metrics);
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const votes = this.nodes.map((node) => new NodeVote(node));
    const mutex = new RedlockMutex(
      votes.map((vote) => vote.client),
      key,
      {
        lockTimeout: ttlMs,
        // One attempt: a busy seat is answered at once, never queued behind the holder.
        acquireAttemptsLimit: 1,
        acquireTimeout: ttlMs,
        retryInterval: 0,
        // No refresh timer: the critical section is one short transaction, and if it outlives the
        // TTL the database fence still decides.
        refreshInterval: 0,
      },
    );

    if (!(await mutex.tryAcquire())) {
      const answered = votes.filter((vote) => vote.answered).length;
      if (answered >= this.quorum) throw new LockBusyError(key);
      this.logOutage(answered);
      this.failedOpen?.inc();
      return fn();
    }

    try {
      return await fn();
    } finally {
      // RedlockMutex swallows each node's error (the keys expire on their own); the catch only
      // keeps a failed release from ever failing the request.
      await mutex.release().catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await closeLockNodes(this.nodes);
  }

  /**
   * The lock's health for alerting (deploy/prometheus/alerts.yml, SeatLockQuorumLost): a lost
   * quorum changes no answer a client gets, so without these it would show only as a log line
   * and more row-lock contention in MySQL.
   */
  private registerMetrics(metrics: MetricsService): Counter {
    const nodes = this.nodes;
    new Gauge({
      name: 'seat_lock_nodes_ready',
      help: 'Seat-lock masters (REDIS_LOCK_NODES) this instance is connected to',
      registers: [metrics.registry],
      collect() {
        this.set(nodes.filter((node) => node.status === 'ready').length);
      },
    });
    new Gauge({
      name: 'seat_lock_quorum',
      help: 'Seat-lock masters that must answer for a lock to be decided (a majority)',
      registers: [metrics.registry],
    }).set(this.quorum);
    return new Counter({
      name: 'seat_lock_failed_open_total',
      help: 'Seat locks left to the database fence alone: fewer than a quorum of masters answered',
      registers: [metrics.registry],
    });
  }

  private logOutage(answered: number): void {
    const now = Date.now();
    if (now - this.lastOutageLog < OUTAGE_LOG_INTERVAL_MS) return;
    this.lastOutageLog = now;
    this.logger.warn(
      `Seat lock quorum unreachable (${answered} of ${this.nodes.length} lock nodes answered, ` +
        `${this.quorum} needed), continuing on the database fence alone`,
    );
  }
}

/**
 * One node as one RedlockMutex sees it, noting whether this call's SET got an answer ("OK" or
 * "taken"). An error or a timeout is no answer. Scripts (the release) pass straight through.
 */
class NodeVote {
  answered = false;
  readonly client: RedlockClient;

  constructor(node: Redis) {
    const set = (...args: unknown[]) =>
      (node.set as (...a: unknown[]) => Promise<'OK' | null>)(...args).then((reply) => {
        this.answered = true;
        return reply;
      });
    this.client = {
      set: set as unknown as Redis['set'],
      eval: node.eval.bind(node),
      evalsha: node.evalsha.bind(node),
      get: node.get.bind(node),
      zrem: node.zrem.bind(node),
    };
  }
}
