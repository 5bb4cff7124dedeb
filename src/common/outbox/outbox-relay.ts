import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { appConfig, AppConfig, eventsConfig, EventsConfig } from '../config/configuration';
import { TransactionHost } from '../database/transaction';
import { AmqpEventPublisher, PublishOutcome } from './amqp-event-publisher';
import { partitionOf, StoredEvent } from './booking-event';
import {
  redactUrl,
  RELAY_CONFIRM_TIMEOUT_MS,
  RELAY_EVENTS_PER_PARTITION,
  RELAY_IDLE_POLL_MS,
  RELAY_PARTITIONS_PER_CLAIM,
  relayBackoffMs,
} from './outbox.constants';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxStore } from './outbox.store';

// Logged on the first failure of an outage and then every this many, not on every retry.
const FAILURES_PER_WARNING = 20;

/**
 * Publishes committed outbox events to RabbitMQ, on every instance where EVENTS_AMQP_URL is set
 * and JOBS_ENABLED (see docs/events.md, "The relay"). One round: claim up to a few partitions
 * nobody else holds (`FOR UPDATE SKIP LOCKED` on their rows, kept to the end of the round), read
 * their oldest unsent events, publish them in order, wait for the confirms, mark the confirmed
 * prefix sent, commit. A subject always hashes to the same partition, so two instances never
 * publish events of one subject at once and the order per subject holds across instances.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly publisher?: AmqpEventPublisher;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private failures = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly txHost: TransactionHost,
    private readonly metrics: OutboxMetrics,
    @Inject(eventsConfig.KEY) private readonly config: EventsConfig,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {
    if (config.amqpUrl) {
      this.publisher = new AmqpEventPublisher(
        config.amqpUrl,
        config.exchange,
        `concert-booking relay ${hostname()}/${process.pid}`,
      );
    }
  }

  onApplicationBootstrap(): void {
    if (!this.publisher || !this.app.jobsEnabled) return;
    this.logger.log(
      `relaying events to ${redactUrl(this.config.amqpUrl ?? '')}, exchange ${this.config.exchange}`,
    );
    this.loop = this.run();
  }

  /**
   * Before the database pool closes (that happens in onApplicationShutdown): the round in flight
   * finishes or fails, then the AMQP connection closes, so no timer or socket outlives the app.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.publisher?.close();
    this.metrics.setConnected(false);
  }

  /**
   * One round; returns how many events the broker confirmed and this round marked sent. Throws
   * when the broker (or the database) failed, after marking what was confirmed. The loop calls
   * it; tests call it directly on apps without the loop.
   */
  async relayOnce(): Promise<number> {
    return (await this.round()).sent;
  }

  /** `more`: this round left events it could have taken (a full partition, unclaimed ones). */
  private async round(): Promise<{ sent: number; more: boolean }> {
    const publisher = this.publisher;
    if (!publisher) throw new Error('EVENTS_AMQP_URL is not set: there is no broker to relay to');
    await publisher.open().finally(() => this.metrics.setConnected(publisher.connected));
    const pending = await this.store.pendingPartitions();
    if (pending.length === 0) return { sent: 0, more: false };
    const { sent, more, failure } = await this.txHost.withTransaction(
      // READ COMMITTED: no gap locks, so the round never blocks a checkout inserting its event,
      // and each read sees what the partition's previous holder committed.
      () => this.claimAndPublish(publisher, pending),
      { isolation: 'READ COMMITTED' },
    );
    for (const [type, count] of countByType(sent)) this.metrics.countPublished(type, count);
    if (failure) throw failure;
    return { sent: sent.length, more };
  }

  private async claimAndPublish(
    publisher: AmqpEventPublisher,
    pending: number[],
  ): Promise<{ sent: StoredEvent[]; more: boolean; failure?: Error }> {
    const claimed = await this.claimSome(shuffled(pending));
    if (claimed.length === 0) return { sent: [], more: false };
    const events = await this.store.unsentIn(claimed, RELAY_EVENTS_PER_PARTITION);
    const more = pending.length > claimed.length || anyPartitionFull(events);
    // Another relay drained them between the look and the claim.
    if (events.length === 0) return { sent: [], more };
    const outcome: PublishOutcome = await publisher.publish(events, RELAY_CONFIRM_TIMEOUT_MS);
    // A prefix in commit order is a prefix of every subject: marking it keeps the order whole.
    const sent = events.slice(0, outcome.confirmed);
    await this.store.markSent(sent.map((event) => event.seq));
    return { sent, more, failure: outcome.error };
  }

  /**
   * A few partitions at a time, drawn at random among the pending ones: a fixed order would let
   * the instances keep the low partitions busy and starve the high ones under sustained load.
   */
  private async claimSome(candidates: number[]): Promise<number[]> {
    for (let start = 0; start < candidates.length; start += RELAY_PARTITIONS_PER_CLAIM) {
      const claimed = await this.store.claimPartitions(
        candidates.slice(start, start + RELAY_PARTITIONS_PER_CLAIM),
      );
      if (claimed.length > 0) return claimed;
    }
    return [];
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const pauseMs = await this.step();
      await sleep(pauseMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One guarded round; returns how long to wait before the next one. */
  private async step(): Promise<number> {
    try {
      const { sent, more } = await this.round();
      if (this.failures > 0) {
        this.logger.log(`relay recovered after ${this.failures} failed rounds`);
        this.failures = 0;
      }
      // A backlog is drained round after round at once. Otherwise the next round waits a poll
      // interval even under a steady trickle, so that each round carries a few hundred
      // milliseconds of events instead of one: a round costs seven statements and a confirm
      // wait, whatever it carries.
      return sent > 0 && more ? 0 : RELAY_IDLE_POLL_MS;
    } catch (error) {
      this.failures += 1;
      this.metrics.countFailure();
      const delay = relayBackoffMs(this.failures);
      if (this.failures === 1 || this.failures % FAILURES_PER_WARNING === 0) {
        this.logger.warn(
          `relay round failed (${this.failures} in a row), retrying in ${delay} ms: ` +
            `${this.scrub((error as Error).message)}`,
        );
      }
      return delay;
    }
  }

  /** Driver messages do not quote the URL today; this keeps its password out if one ever does. */
  private scrub(message: string): string {
    let password = '';
    try {
      password = decodeURIComponent(new URL(this.config.amqpUrl ?? '').password);
    } catch {
      // No parseable URL, no password to hide.
    }
    return password ? message.split(password).join('***') : message;
  }
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

function anyPartitionFull(events: readonly StoredEvent[]): boolean {
  const perPartition = new Map<number, number>();
  for (const event of events) {
    const partition = partitionOf(event.subject);
    const count = (perPartition.get(partition) ?? 0) + 1;
    if (count >= RELAY_EVENTS_PER_PARTITION) return true;
    perPartition.set(partition, count);
  }
  return false;
}

function countByType(events: readonly StoredEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
  return counts;
}
