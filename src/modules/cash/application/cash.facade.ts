import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import {
  IdempotencyService,
  IdempotentResult,
} from '../../../common/idempotency/idempotency.service';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { CashHistoryPage, CashService } from '../domain/cash.service';

export interface CashBalanceView {
  userId: string;
  balance: number;
}

export const CHARGE_SCOPE = 'cash.charge';

@Injectable()
export class CashFacade {
  constructor(
    private readonly cash: CashService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
    private readonly txHost: TransactionHost,
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

  /** The balance and its ledger row commit together (and with the key record, when there is one). */
  private chargeOnce(userId: string, amount: number): Promise<CashBalanceView> {
    return this.txHost.withTransaction(async () => ({
      userId,
      balance: await this.cash.charge(userId, amount),
    }));
  }
}
