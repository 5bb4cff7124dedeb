import { ChannelModel, ConfirmChannel, connect } from 'amqplib';
import { once } from 'node:events';
import { cloudEventJson, EVENT_CONTENT_TYPE, EVENT_SOURCE, StoredEvent } from './booking-event';
import { RELAY_CONNECT_TIMEOUT_MS } from './outbox.constants';

/** How far a burst got: events `[0, confirmed)` are the broker's; `error` says why it stopped. */
export interface PublishOutcome {
  confirmed: number;
  error?: Error;
}

const CLOSE_TIMEOUT_MS = 2_000;

/**
 * One AMQP connection and confirm channel to the events exchange, opened on first use and again
 * after any failure (the relay decides when: it owns the backoff). amqplib's own recovery is not
 * used: a failed burst must end in a fresh channel anyway, so that no confirm of the old one can
 * be mistaken for one of the retry.
 */
export class AmqpEventPublisher {
  private model?: ChannelModel;
  private channel?: ConfirmChannel;
  private opening?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly connectionName: string,
  ) {}

  get connected(): boolean {
    return this.channel !== undefined;
  }

  /** Connects (if not connected) and declares the durable topic exchange. */
  open(): Promise<void> {
    if (this.channel) return Promise.resolve();
    // Concurrent callers share one attempt rather than each opening a connection.
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async connect(): Promise<void> {
    const model = await connect(this.url, {
      timeout: RELAY_CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: this.connectionName },
    });
    // Without listeners an 'error' event would crash the process; a lost connection only means
    // the next round reconnects.
    model.on('error', () => undefined);
    model.on('close', () => this.forget(model));
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => this.forget(model));
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
      this.model = model;
      this.channel = channel;
    } catch (error) {
      await closeQuietly(model);
      throw error;
    }
  }

  /**
   * Publishes the events in order (routing key = type, persistent) and waits for the broker's
   * confirms, at most `timeoutMs`. Returns the confirmed prefix: a connection lost mid-burst
   * leaves a suffix unconfirmed, and only the prefix may be marked sent.
   */
  async publish(events: readonly StoredEvent[], timeoutMs: number): Promise<PublishOutcome> {
    const channel = this.channel;
    if (events.length === 0) return { confirmed: 0 };
    if (!channel) return { confirmed: 0, error: new Error('not connected to the broker') };
    const outcomes: (true | Error | undefined)[] = new Array<true | Error | undefined>(
      events.length,
    );
    let settled = 0;
    let allSettled!: () => void;
    const done = new Promise<void>((resolve) => (allSettled = resolve));
    const settle = (index: number, error: unknown) => {
      if (outcomes[index] !== undefined) return;
      outcomes[index] = error ? toError(error) : true;
      if (++settled === events.length) allSettled();
    };
    // One deadline for the whole burst, the waits for a full socket buffer included.
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve();
      }, timeoutMs);
    });

    for (let index = 0; index < events.length && !expired; index++) {
      const event = events[index];
      try {
        const accepted = channel.publish(
          this.exchange,
          event.type,
          Buffer.from(cloudEventJson(event)),
          {
            persistent: true,
            contentType: EVENT_CONTENT_TYPE,
            messageId: event.id,
            type: event.type,
            appId: EVENT_SOURCE,
            timestamp: Math.floor(event.time.getTime() / 1000),
          },
          (error: unknown) => settle(index, error),
        );
        // The socket's buffer is full: wait for it to drain rather than buffer the whole burst.
        if (!accepted) await drainOrClose(channel, deadline);
      } catch (error) {
        // The channel closed under us; amqplib fails the callbacks of what it had already sent.
        for (let rest = index; rest < events.length; rest++) settle(rest, error);
        break;
      }
    }

    await Promise.race([done, deadline]);
    clearTimeout(timer);

    let confirmed = 0;
    while (confirmed < events.length && outcomes[confirmed] === true) confirmed++;
    if (confirmed === events.length) return { confirmed };
    const failure = outcomes.find((outcome): outcome is Error => outcome instanceof Error);
    // Whatever is still unconfirmed on this channel is abandoned with it.
    await this.close();
    return {
      confirmed,
      error: failure ?? new Error(`broker did not confirm within ${timeoutMs} ms`),
    };
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    if (model) await closeQuietly(model);
  }

  private forget(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.channel = undefined;
  }
}

async function drainOrClose(channel: ConfirmChannel, deadline: Promise<void>): Promise<void> {
  const stop = new AbortController();
  const { signal } = stop;
  await Promise.race([
    once(channel, 'drain', { signal }),
    once(channel, 'close', { signal }),
    deadline,
  ]);
  stop.abort();
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A broker that does not answer the close within the timeout gets its socket destroyed, so
 * shutting down never waits on it (and no test is left with an open handle).
 */
async function closeQuietly(model: ChannelModel): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = model.close().then(
    () => true,
    () => true,
  );
  const gaveUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
  });
  const clean = await Promise.race([closed, gaveUp]);
  clearTimeout(timer);
  if (!clean) {
    (model.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}
