import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { queueConfig, QueueConfig } from '../../../common/config/configuration';
import { QueueTicket } from '../domain/queue-entry';
import { noRoomForStream } from '../domain/queue.errors';
import { QueueService } from '../domain/queue.service';
import { RoomSignals } from '../domain/room-signals';
import {
  STREAM_BATCH_SIZE,
  STREAM_HEARTBEAT_MS,
  STREAM_MIN_STATUS_INTERVAL_MS,
  STREAM_RETRY_AFTER_SECONDS,
  STREAM_TICK_MS,
} from '../queue.constants';

export type StreamEvent = 'status' | 'admitted' | 'expired';

/** Where one client's events go (an HTTP response in production, an array in tests). */
export interface StreamSink {
  send(event: StreamEvent, data: unknown): void;
  end(): void;
  /** Called once when the client goes away. */
  onClose(listener: () => void): void;
}

interface OpenStream {
  token: string;
  concertId: number;
  sink: StreamSink;
  lastPosition: number | null;
  lastSentAt: number;
}

/**
 * The instance's Server-Sent Event streams of queue tokens. No stream asks Redis on its own:
 * once a second (and at once when any instance announces an admission in a room) the hub polls
 * every open stream of a room in one script call per STREAM_BATCH_SIZE tokens, which also keeps
 * their WAITING entries alive, and tells each client what changed: `status` when the position
 * moved (at most once a second) or 15 s passed, `admitted` then the end, or `expired` then the
 * end. The number of open streams per instance is bounded (QUEUE_SSE_MAX_STREAMS): past it,
 * 503 with Retry-After, and clients poll instead.
 */
@Injectable()
export class QueueStreamHub implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(QueueStreamHub.name);
  private readonly streams = new Map<string, OpenStream>();
  /** The same streams by room: a tick and an admission signal touch one room's streams only. */
  private readonly byRoom = new Map<number, Set<OpenStream>>();
  private readonly refreshing = new Set<number>();
  private readonly refreshAgain = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private opening = 0;

  constructor(
    private readonly queue: QueueService,
    private readonly signals: RoomSignals,
    @Inject(queueConfig.KEY) private readonly config: QueueConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), STREAM_TICK_MS);
    this.timer.unref();
  }

  /** Streams end before the server closes, so a shutdown never waits on them (clients reconnect). */
  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const stream of this.streams.values()) stream.sink.end();
    this.streams.clear();
    this.byRoom.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Validates the token (401 like a status poll) and the capacity (503) before `connect` starts
   * the stream, so refusals are ordinary problem+json answers. The first event is the status.
   */
  async open(rawToken: unknown, connect: () => StreamSink): Promise<void> {
    if (this.streams.size + this.opening >= this.config.sseMaxStreams) {
      throw noRoomForStream(STREAM_RETRY_AFTER_SECONDS);
    }
    this.opening++;
    let ticket: QueueTicket;
    try {
      await this.listenForAdmissions();
      ticket = await this.queue.status(rawToken);
    } finally {
      this.opening--;
    }
    const sink = connect();
    sink.send('status', ticket);
    if (ticket.status === 'ACTIVE') {
      sink.send('admitted', ticket);
      sink.end();
      return;
    }
    // A second stream of the same token replaces the first: one client, one stream.
    const previous = this.streams.get(ticket.token);
    if (previous) {
      this.remove(previous);
      previous.sink.end();
    }
    const stream: OpenStream = {
      token: ticket.token,
      concertId: ticket.concertId,
      sink,
      lastPosition: ticket.position,
      lastSentAt: Date.now(),
    };
    this.add(stream);
    sink.onClose(() => this.remove(stream));
  }

  /** One pass over every room with open streams; exposed so tests need not wait for the timer. */
  async tick(): Promise<void> {
    await Promise.all([...this.byRoom.keys()].map((concertId) => this.refreshRoom(concertId)));
  }

  private async listenForAdmissions(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.signals.onAdmissions((concertId) => {
      if (this.byRoom.has(concertId)) void this.refreshRoom(concertId);
    });
  }

  /** Refreshes one room's streams; a refresh asked for while one runs follows right after it. */
  private async refreshRoom(concertId: number): Promise<void> {
    if (this.refreshing.has(concertId)) {
      this.refreshAgain.add(concertId);
      return;
    }
    this.refreshing.add(concertId);
    try {
      do {
        this.refreshAgain.delete(concertId);
        await this.pollRoom(concertId);
      } while (this.refreshAgain.has(concertId));
    } catch (error) {
      // Redis trouble: the streams stay open and the next tick tries again.
      this.logger.warn(`event stream refresh of room ${concertId} failed: ${String(error)}`);
    } finally {
      this.refreshing.delete(concertId);
    }
  }

  private async pollRoom(concertId: number): Promise<void> {
    const streams = [...(this.byRoom.get(concertId) ?? [])];
    for (let start = 0; start < streams.length; start += STREAM_BATCH_SIZE) {
      const batch = streams.slice(start, start + STREAM_BATCH_SIZE);
      const tickets = await this.queue.statusOfMany(
        concertId,
        batch.map((stream) => stream.token),
      );
      const now = Date.now();
      batch.forEach((stream, i) => this.deliver(stream, tickets[i], now));
    }
  }

  private deliver(stream: OpenStream, ticket: QueueTicket | null, now: number): void {
    if (this.streams.get(stream.token) !== stream) return; // closed meanwhile
    if (!ticket || ticket.status === 'ACTIVE') {
      if (ticket) stream.sink.send('admitted', ticket);
      else stream.sink.send('expired', { token: stream.token });
      this.remove(stream);
      stream.sink.end();
      return;
    }
    const sinceLast = now - stream.lastSentAt;
    const moved = ticket.position !== stream.lastPosition;
    if ((moved && sinceLast >= STREAM_MIN_STATUS_INTERVAL_MS) || sinceLast >= STREAM_HEARTBEAT_MS) {
      stream.sink.send('status', ticket);
      stream.lastPosition = ticket.position;
      stream.lastSentAt = now;
    }
  }

  private add(stream: OpenStream): void {
    this.streams.set(stream.token, stream);
    let room = this.byRoom.get(stream.concertId);
    if (!room) this.byRoom.set(stream.concertId, (room = new Set()));
    room.add(stream);
  }

  private remove(stream: OpenStream): void {
    if (this.streams.get(stream.token) === stream) this.streams.delete(stream.token);
    const room = this.byRoom.get(stream.concertId);
    room?.delete(stream);
    if (room?.size === 0) this.byRoom.delete(stream.concertId);
  }
}
