import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { runDetached } from '../../../common/deadline/deadline';
import type { RedisClient } from '../../../common/redis/redis-client';
import { RoomSignals } from '../domain/room-signals';
import { ROOM_EVENTS_CHANNEL } from '../queue.constants';

/**
 * Room signals over Redis pub/sub. ioredis prefixes keys but not channels, so the key prefix is
 * added by hand: apps sharing one Redis under different prefixes (tests) do not hear each other.
 * The subscriber is a second connection, opened on the first listener only. On a Redis Cluster
 * PUBLISH reaches the subscribers of every node, so the subscriber may sit on any of them.
 */
@Injectable()
export class RedisRoomSignals extends RoomSignals implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisRoomSignals.name);
  private readonly channel: string;
  private readonly listeners = new Set<(concertId: number) => void>();
  private subscriber: RedisClient | undefined;
  private subscribing: Promise<void> | undefined;

  constructor(@Inject(Redis) private readonly redis: RedisClient) {
    super();
    this.channel = `${redis.options.keyPrefix ?? ''}${ROOM_EVENTS_CHANNEL}`;
  }

  async announceAdmissions(concertIds: number[]): Promise<void> {
    try {
      await this.redis.publish(this.channel, concertIds.join(','));
    } catch (error) {
      this.logger.warn(
        `admission announcement lost (streams catch up on their tick): ${String(error)}`,
      );
    }
  }

  async onAdmissions(listener: (concertId: number) => void): Promise<() => void> {
    this.listeners.add(listener);
    await (this.subscribing ??= this.subscribe());
    return () => this.listeners.delete(listener);
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber && subscriber.status !== 'end') {
      await subscriber.quit().catch(() => subscriber.disconnect());
    }
  }

  private async subscribe(): Promise<void> {
    const overrides = { lazyConnect: true, keyPrefix: undefined };
    const subscriber =
      this.redis instanceof Cluster
        ? this.redis.duplicate([], overrides)
        : this.redis.duplicate(overrides);
    subscriber.on('error', () => undefined); // the main client already reports Redis outages
    subscriber.on('message', (_channel: string, message: string) => {
      for (const id of message.split(',')) {
        const concertId = Number(id);
        if (Number.isSafeInteger(concertId))
          this.listeners.forEach((listener) => listener(concertId));
      }
    });
    this.subscriber = subscriber;
    try {
      // Opened by whichever request listens first: outside its deadline, or every message
      // (handled in the socket's context) would inherit that request's deadline (ADR 0013).
      await runDetached(async () => {
        await subscriber.connect();
        await subscriber.subscribe(this.channel);
      });
    } catch (error) {
      // Streams still work without it, on their tick; a later first listener tries again.
      this.subscribing = undefined;
      this.subscriber = undefined;
      subscriber.disconnect();
      this.logger.warn(`room signal subscription failed: ${String(error)}`);
    }
  }
}
