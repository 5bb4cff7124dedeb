import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { ConcertService } from '../../concert/domain/concert.service';
import { AdmissionRun, QueueTicket, RoomTick } from '../domain/queue-entry';
import { QueueService } from '../domain/queue.service';
import { RoomSignals } from '../domain/room-signals';
import { RoomSettings, RoomStats, StoredRoomSettings } from '../domain/waiting-room';
import { WaitingRoomService } from '../domain/waiting-room.service';

/** Concerts this instance has seen exist (bounded; cleared whole when full, then relearnt). */
const KNOWN_CONCERTS_MAX = 10_000;

@Injectable()
export class QueueFacade implements OnModuleInit {
  private readonly logger = new Logger(QueueFacade.name);
  /** Rooms this instance last saw with someone in them (to drop their metric series after). */
  private lastTicks = new Map<number, RoomTick>();
  /**
   * Concerts are never deleted, so one that existed still does: a newcomer to a known concert
   * skips the MySQL check (a third of a newcomer's round trips, and its p99 in an on-sale).
   */
  private readonly knownConcerts = new Set<number>();

  constructor(
    private readonly queue: QueueService,
    private readonly rooms: WaitingRoomService,
    private readonly concerts: ConcertService,
    private readonly signals: RoomSignals,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const total = (pick: (tick: RoomTick) => number) => () =>
      [...this.lastTicks.values()].reduce((sum, tick) => sum + pick(tick), 0);
    this.metrics.setGaugeCollector(
      'queue_waiting_users',
      total((tick) => tick.waiting),
    );
    this.metrics.setGaugeCollector(
      'queue_active_users',
      total((tick) => tick.active),
    );
  }

  /**
   * The caller is proven by the bearer token. A returning user gets their live token of that
   * room back from Redis alone (no MySQL), keeping their place; only a newcomer costs the
   * concert check (batched with the other newcomers of the moment) before joining the end of
   * the line. For a concert this instance knows exists, the join itself hands a live token back
   * (created: false), so a newcomer of an on-sale skips the look-only round trip.
   */
  async issueToken(
    userId: string,
    concertId: number,
  ): Promise<{ ticket: QueueTicket; created: boolean }> {
    if (!this.knownConcerts.has(concertId)) {
      const live = await this.queue.findLiveTicket(userId, concertId);
      if (live) return { ticket: live, created: false };
      await this.concerts.assertConcertExists(concertId);
      if (this.knownConcerts.size >= KNOWN_CONCERTS_MAX) this.knownConcerts.clear();
      this.knownConcerts.add(concertId);
    }
    const issued = await this.queue.join(userId, concertId);
    if (issued.created) this.metrics.increment('queue_tokens_issued_total');
    return issued;
  }

  status(rawToken: unknown): Promise<QueueTicket> {
    return this.queue.status(rawToken);
  }

  /**
   * One admission run over every room: free the slots of expired tokens, forget users who left,
   * start rooms whose random start has come, then let the heads of the lines in. Each room's step
   * is atomic in Redis, so every instance may run this at once. Instances holding event streams
   * of a room that admitted someone hear of it at once.
   */
  async runAdmission(): Promise<AdmissionRun> {
    const { ticks, failed } = await this.queue.admitAllRooms();
    if (failed > 0) this.logger.warn(`admission failed in ${failed} room(s); the next run retries`);
    const admittedRooms = ticks.filter((tick) => tick.admitted > 0).map((tick) => tick.concertId);
    if (admittedRooms.length > 0) await this.signals.announceAdmissions(admittedRooms);
    this.recordMetrics(ticks);
    const run: AdmissionRun = { expired: 0, dropped: 0, admitted: 0, started: 0 };
    for (const tick of ticks) {
      run.expired += tick.expired;
      run.dropped += tick.dropped;
      run.admitted += tick.admitted;
      if (tick.started) {
        run.started++;
        this.logger.log(`waiting room of concert ${tick.concertId} started: pre-queue shuffled`);
      }
    }
    return run;
  }

  /** Replaces a room's settings; every instance runs with them within about a second. */
  async configureRoom(concertId: number, settings: StoredRoomSettings): Promise<RoomSettings> {
    await this.concerts.assertConcertExists(concertId);
    return this.rooms.configure(concertId, settings);
  }

  async describeRoom(concertId: number): Promise<RoomSettings & RoomStats> {
    await this.concerts.assertConcertExists(concertId);
    const [settings, stats] = await Promise.all([
      this.rooms.settingsOf(concertId),
      this.queue.roomStats(concertId),
    ]);
    return { ...settings, ...stats };
  }

  private recordMetrics(ticks: RoomTick[]): void {
    const current = new Map(ticks.map((tick) => [tick.concertId, tick]));
    for (const concertId of this.lastTicks.keys()) {
      if (!current.has(concertId)) this.metrics.forgetRoom(concertId);
    }
    for (const tick of ticks) this.metrics.observeRoom(tick.concertId, tick);
    this.lastTicks = current;
    const sum = (pick: (tick: RoomTick) => number) => ticks.reduce((n, t) => n + pick(t), 0);
    this.metrics.increment(
      'queue_tokens_expired_total',
      sum((tick) => tick.expired),
    );
    this.metrics.increment(
      'queue_waiting_dropped_total',
      sum((tick) => tick.dropped),
    );
    this.metrics.increment(
      'queue_admissions_total',
      sum((tick) => tick.admitted),
    );
  }
}
