import { Inject, Injectable } from '@nestjs/common';
import { queueConfig, QueueConfig } from '../../../common/config/configuration';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import {
  CLEANUP_BATCH_SIZE,
  CLEANUP_MAX_BATCHES_PER_RUN,
  RETIRED_TOKEN_RETENTION_SECONDS,
} from '../queue.constants';
import { AdmissionPolicy } from './admission-policy';
import { ActivePass, QueueCounts, QueueTicket } from './queue-entry';
import { QueueRepository } from './queue.repository';
import { invalidToken, newQueueToken, parseQueueToken } from './queue-token';

/** The waiting room: who is in line, who may enter, and when each token stops being valid. */
@Injectable()
export class QueueService {
  private readonly policy: AdmissionPolicy;

  constructor(
    private readonly store: QueueRepository,
    @Inject(queueConfig.KEY) private readonly config: QueueConfig,
  ) {
    this.policy = new AdmissionPolicy(config);
  }

  /** The user's live ticket, their place kept (re-issuing never moves anyone), or null. */
  async findLiveTicket(userId: string): Promise<QueueTicket | null> {
    const entry = await this.store.findLiveEntryOfUser(userId, this.config.waitingIdleSeconds);
    return entry && this.policy.ticketFor(entry);
  }

  /**
   * Joins the end of the line with a token for `concertId`; a user who got a live token meanwhile
   * gets that one back, with the concert it was issued for.
   */
  async join(
    userId: string,
    concertId: number,
  ): Promise<{ ticket: QueueTicket; created: boolean }> {
    const { entry, created } = await this.store.join(
      userId,
      concertId,
      newQueueToken(),
      this.config.waitingIdleSeconds,
    );
    return { ticket: this.policy.ticketFor(entry), created };
  }

  /** A status poll: keeps a WAITING entry alive and says where it stands. */
  async status(rawToken: unknown): Promise<QueueTicket> {
    const entry = await this.store.poll(parseQueueToken(rawToken), this.config.waitingIdleSeconds);
    if (!entry) throw invalidToken();
    return this.policy.ticketFor(entry);
  }

  /**
   * Lets the caller through to an [active token] endpoint, or says why not (401 / 403). A token
   * is bound to its owner: someone else's is as invalid as an unknown one (no hint it exists).
   */
  async authorizeActive(rawToken: unknown, callerId: string): Promise<ActivePass> {
    const token = parseQueueToken(rawToken);
    const entry = await this.store.inspect(token, this.config.waitingIdleSeconds);
    if (!entry || entry.userId !== callerId) throw invalidToken();
    if (entry.status === 'WAITING') {
      throw new DomainError(
        ErrorCode.QUEUE_TOKEN_NOT_ACTIVE,
        'This Queue-Token is still waiting; poll GET /queue/status until it is ACTIVE.',
      );
    }
    return { token: entry.token, userId: entry.userId, concertId: entry.concertId };
  }

  /** Frees the slots of ACTIVE tokens past their TTL. */
  expireActiveTokens(): Promise<number> {
    return this.inBatches(() => this.store.expireActive(CLEANUP_BATCH_SIZE));
  }

  /** Drops WAITING entries whose user stopped polling: they have left the line. */
  dropIdleEntries(): Promise<number> {
    return this.inBatches(() =>
      this.store.dropIdle(this.config.waitingIdleSeconds, CLEANUP_BATCH_SIZE),
    );
  }

  /** Admits the head of the line into the free ACTIVE slots, within the per-second cap. */
  admitWaiting(): Promise<number> {
    return this.store.admit(this.config);
  }

  /**
   * Ends a token at once (a completed payment): it stops being valid and its ACTIVE slot frees.
   * Its owner is remembered for at least 24 h so an idempotent replay of that payment can still
   * be answered (see findRetiredTokenOwner). `userId` is the owner the caller already knows (from
   * the guard); it is recorded even if the TTL removed the live entry just before this call.
   */
  async expireToken(token: string, userId?: string): Promise<void> {
    await this.store.retire(
      parseQueueToken(token),
      userId ?? null,
      RETIRED_TOKEN_RETENTION_SECONDS,
    );
  }

  /** The owner of a token retired by expireToken within the last 24 h; null for anything else. */
  async findRetiredTokenOwner(token: string): Promise<string | null> {
    let parsed: string;
    try {
      parsed = parseQueueToken(token);
    } catch {
      return null;
    }
    return this.store.findRetiredOwner(parsed);
  }

  counts(): Promise<QueueCounts> {
    return this.store.counts();
  }

  /** Repeats a bounded cleanup step until a batch comes back short (or the run's budget ends). */
  private async inBatches(step: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < CLEANUP_MAX_BATCHES_PER_RUN; batch++) {
      const done = await step();
      total += done;
      if (done < CLEANUP_BATCH_SIZE) break;
    }
    return total;
  }
}
