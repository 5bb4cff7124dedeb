import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { ConcertService } from '../../concert/domain/concert.service';
import { AdmissionRun, QueueTicket } from '../domain/queue-entry';
import { QueueService } from '../domain/queue.service';

@Injectable()
export class QueueFacade implements OnModuleInit {
  constructor(
    private readonly queue: QueueService,
    private readonly concerts: ConcertService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.setGaugeCollector(
      'queue_waiting_users',
      async () => (await this.queue.counts()).waiting,
    );
    this.metrics.setGaugeCollector(
      'queue_active_users',
      async () => (await this.queue.counts()).active,
    );
  }

  /**
   * The caller is proven by the bearer token. A returning user gets their live token back from
   * Redis alone (no MySQL), keeping their place and the concert it was issued for, whatever
   * `concertId` this request names (one queue, one token per user until per-concert rooms
   * exist); only a newcomer costs the concert check (batched with the other newcomers of the
   * moment) before joining the end of the line.
   */
  async issueToken(
    userId: string,
    concertId: number,
  ): Promise<{ ticket: QueueTicket; created: boolean }> {
    const live = await this.queue.findLiveTicket(userId);
    if (live) return { ticket: live, created: false };
    await this.concerts.assertConcertExists(concertId);
    const issued = await this.queue.join(userId, concertId);
    if (issued.created) this.metrics.increment('queue_tokens_issued_total');
    return issued;
  }

  status(rawToken: unknown): Promise<QueueTicket> {
    return this.queue.status(rawToken);
  }

  /**
   * One admission run: free the slots of expired tokens, forget users who left, then let the
   * head of the line in. Each step is atomic in Redis, so every instance may run this at once.
   */
  async runAdmission(): Promise<AdmissionRun> {
    const expired = await this.queue.expireActiveTokens();
    const dropped = await this.queue.dropIdleEntries();
    const admitted = await this.queue.admitWaiting();
    this.metrics.increment('queue_tokens_expired_total', expired);
    this.metrics.increment('queue_waiting_dropped_total', dropped);
    this.metrics.increment('queue_admissions_total', admitted);
    return { expired, dropped, admitted };
  }
}
