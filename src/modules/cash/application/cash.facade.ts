import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import {
  IdempotencyService,
  IdempotentResult,
} from '../../../common/idempotency/idempotency.service';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { eventSubject } from '../../../common/outbox/booking-event';
import { EventOutbox } from '../../../common/outbox/event-outbox';
import { CashHistoryPage, CashService } from '../domain/cash.service';

export interface CashBalanceView {
  userId: string;
  balance: number;
}

/** The `data` of a `cash.charged` event: the balance as the API shows it, and the charge. */
export interface CashChargedData extends CashBalanceView {
  amount: number;
}

export const CHARGE_SCOPE = 'cash.charge';

@Injectable()
export class CashFacade {
  constructor(
    private readonly cash: CashService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
    private readonly txHost: TransactionHost,
    private readonly events: EventOutbox,
  ) {}

  async getBalance(userId: string): Promise<CashBalanceView> {
    return { userId, balance: await this.cash.getBalance(userId) };
  }

  /** Charges once per Idempotency-Key; a repeat gets the first answer back. */
  async charge(
    userId: string,
    amount: number,
    idempotencyKey?: string,
  ): Promise<IdempotentResult<CashBalanceView>> {
    const result = await this.idempotency.execute(
      { userId, scope: CHARGE_SCOPE, key: idempotencyKey, body: { amount } },
      200,
      () => this.chargeOnce(userId, amount),
    );
    if (!result.replayed) {
      this.metrics.increment('cash_charges_total');
      this.metrics.increment('cash_charged_krw_total', amount);
    }
    return result;
  }

  history(userId: string, page: { beforeId?: number; limit: number }): Promise<CashHistoryPage> {
    return this.cash.history(userId, page);
  }

  /**
   * The balance, its ledger row and the `cash.charged` event commit together (and with the key
   * record, when there is one). The event comes after the wallet's row lock, so a user's charges
   * are numbered in the outbox in the order they commit.
   */
  private chargeOnce(userId: string, amount: number): Promise<CashBalanceView> {
    return this.txHost.withTransaction(async () => {
      const balance = await this.cash.charge(userId, amount);
      const data: CashChargedData = { userId, balance, amount };
      await this.events.record({ type: 'cash.charged', subject: eventSubject.user(userId), data });
      return { userId, balance };
    });
  }
}
