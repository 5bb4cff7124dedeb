import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Channel, ChannelModel, connect, ConsumeMessage } from 'amqplib';
import { sql } from './app';
import { eventually } from './eventually';

/** The broker the test setup made sure of (test/setup/global-setup.ts). */
export function amqpUrl(): string {
  return process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
}

/** This file's own exchange (test/setup/test-env.ts). */
export function testExchange(): string {
  const exchange = process.env.EVENTS_EXCHANGE;
  if (!exchange) throw new Error('EVENTS_EXCHANGE is not set (test/setup/test-env.ts)');
  return exchange;
}

/** Env for an app that relays: the broker, and the jobs on (JOBS_ENABLED starts the relay). */
export function relayEnv(url = amqpUrl()): Record<string, string> {
  return { EVENTS_AMQP_URL: url, JOBS_ENABLED: 'true' };
}

export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

export interface Delivery {
  event: CloudEvent;
  routingKey: string;
  properties: ConsumeMessage['properties'];
}

/**
 * A consumer as a downstream system would run one: a temporary exclusive queue bound to the
 * file's exchange, recording every delivery in arrival order (duplicates included).
 */
export class EventConsumer {
  readonly deliveries: Delivery[] = [];
  private model?: ChannelModel;
  private channel?: Channel;

  static async start(pattern = '#', exchange = testExchange()): Promise<EventConsumer> {
    const consumer = new EventConsumer();
    const model = await connect(amqpUrl());
    const channel = await model.createChannel();
    // Declared as the relay declares it, so whichever comes first creates it.
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, pattern);
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        consumer.deliveries.push({
          event: JSON.parse(message.content.toString('utf8')) as CloudEvent,
          routingKey: message.fields.routingKey,
          properties: message.properties,
        });
      },
      { noAck: true },
    );
    consumer.model = model;
    consumer.channel = channel;
    return consumer;
  }

  /** First delivery of each id, in arrival order: what a consumer that dedupes by id sees. */
  deduped(): CloudEvent[] {
    const seen = new Set<string>();
    const events: CloudEvent[] = [];
    for (const { event } of this.deliveries) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      events.push(event);
    }
    return events;
  }

  /** Deduped events grouped by subject, each list in arrival order. */
  bySubject(): Map<string, CloudEvent[]> {
    const groups = new Map<string, CloudEvent[]>();
    for (const event of this.deduped()) {
      const list = groups.get(event.subject) ?? [];
      list.push(event);
      groups.set(event.subject, list);
    }
    return groups;
  }

  async close(): Promise<void> {
    await this.channel?.close().catch(() => undefined);
    await this.model?.close().catch(() => undefined);
  }
}

/** Deletes this file's exchange once its tests are done (queues were exclusive and are gone). */
export async function deleteTestExchange(exchange = testExchange()): Promise<void> {
  const model = await connect(amqpUrl());
  try {
    const channel = await model.createChannel();
    await channel.deleteExchange(exchange);
  } finally {
    await model.close();
  }
}

export interface OutboxRow {
  id: number;
  event_id: string;
  type: string;
  subject: string;
  data: string;
  created_at: Date;
  sent_at: Date | null;
}

/** Outbox rows, in commit order; with `subject`, that subject's only. */
export function outboxRows(app: NestFastifyApplication, subject?: string): Promise<OutboxRow[]> {
  return subject === undefined
    ? sql<OutboxRow[]>(app, 'SELECT * FROM outbox_events ORDER BY id')
    : sql<OutboxRow[]>(app, 'SELECT * FROM outbox_events WHERE subject = ? ORDER BY id', [subject]);
}

export async function outboxCount(app: NestFastifyApplication): Promise<number> {
  const [row] = await sql<{ n: number | string }[]>(app, 'SELECT COUNT(*) AS n FROM outbox_events');
  return Number(row.n);
}

/** A metric's value from an app's /metrics (summed over its label sets). */
export async function metricValue(app: NestFastifyApplication, name: string): Promise<number> {
  const reply = await app.inject({ method: 'GET', url: '/metrics' });
  return reply.body
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Retries a synchronous assertion about what consumers received until it passes or times out. */
export function eventuallyReceived(check: () => void, timeoutMs = 10_000): Promise<void> {
  return eventually(() => Promise.resolve().then(check), timeoutMs);
}
