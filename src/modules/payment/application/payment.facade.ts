import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import {
  IdempotencyService,
  IdempotentResult,
} from '../../../common/idempotency/idempotency.service';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { ActivePass } from '../../queue/domain/queue-entry';
import { QueueService } from '../../queue/domain/queue.service';
import { CheckoutScope } from './checkout-scope';
import { Payment } from '../domain/payment';
import { PaymentService } from '../domain/payment.service';
import { CheckoutUseCase } from './checkout.use-case';
import { PaymentView, toPaymentView } from './payment.view';
import { RefundUseCase } from './refund.use-case';

/** Idempotency-Key scope of POST /payments (keys are per user and per scope). */
export const PAYMENT_SCOPE = 'payment';
/** Idempotency-Key scope of POST /payments/{id}/refund: a payment's key never replays a refund. */
export const REFUND_SCOPE = 'refund';

/** Who may enter POST /payments: a live ACTIVE token, or a replay of a completed payment. */
export type CheckoutAdmission =
  { kind: 'active'; pass: ActivePass } | { kind: 'replay'; result: IdempotentResult<PaymentView> };

@Injectable()
export class PaymentFacade {
  private readonly logger = new Logger(PaymentFacade.name);

  constructor(
    private readonly checkout: CheckoutUseCase,
    private readonly refunds: RefundUseCase,
    private readonly payments: PaymentService,
    private readonly queue: QueueService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
    private readonly scope: CheckoutScope,
  ) {}

  /**
   * The gate of POST /payments. An ACTIVE token passes. Otherwise the one exception: a client
   * whose connection dropped during a successful payment retries with the same Idempotency-Key,
   * body and token, which that payment has since retired; it gets the first 201 back, since
   * without it the client could never learn that it paid. Anything else keeps its 401 / 403.
   * Either way the token must be the caller's (the bearer's) own.
   */
  async admitCheckout(
    callerId: string,
    rawToken: unknown,
    key: string | undefined,
    body: unknown,
  ): Promise<CheckoutAdmission> {
    try {
      const pass = await this.queue.authorizeActive(rawToken, callerId);
      return { kind: 'active', pass };
    } catch (error) {
      const replay = await this.findReplayForRetiredToken(error, callerId, rawToken, key, body);
      if (replay) return { kind: 'replay', result: replay };
      throw error;
    }
  }

  /**
   * Pays once per Idempotency-Key (or once, full stop, without one: the row locks see to that).
   * After the commit the payer's queue token is retired, so their ACTIVE slot goes to the next
   * fan; a replay touches nothing.
   */
  async pay(
    pass: ActivePass,
    reservationIds: number[],
    key?: string,
  ): Promise<IdempotentResult<PaymentView>> {
    const { userId, token } = pass;
    await this.scope.assertCovers(pass, reservationIds);
    const result = await this.idempotency.execute(
      { userId, scope: PAYMENT_SCOPE, key, body: { reservationIds } },
      201,
      async () => toPaymentView(await this.checkout.run(userId, reservationIds)),
    );
    if (!result.replayed) {
      this.metrics.increment('payments_total');
      this.metrics.increment('payment_amount_krw_total', result.body.amount);
      await this.retireQueueToken(token, userId);
    }
    return result;
  }

  /** The caller's payments, newest first (the bearer token already proved the user exists). */
  listPayments(userId: string): Promise<Payment[]> {
    return this.payments.listOfUser(userId);
  }

  /** One of the caller's payments, in any status; anyone else's is 404 like a missing one. */
  getPayment(userId: string, paymentId: number): Promise<Payment> {
    return this.payments.getOwned(paymentId, userId);
  }

  /**
   * Refunds once per Idempotency-Key, like `pay`. The request is the path's payment id, so the
   * same key on another payment is a different request (422). No queue token: a refund is not
   * part of an on-sale rush, and the token is long gone by then.
   */
  async refund(
    userId: string,
    paymentId: number,
    key?: string,
  ): Promise<IdempotentResult<PaymentView>> {
    const result = await this.idempotency.execute(
      { userId, scope: REFUND_SCOPE, key, body: { paymentId } },
      200,
      async () => toPaymentView(await this.refunds.run(userId, paymentId)),
    );
    if (!result.replayed) {
      this.metrics.increment('payment_refunds_total');
      this.metrics.increment('payment_refunded_krw_total', result.body.amount);
    }
    return result;
  }

  private async findReplayForRetiredToken(
    error: unknown,
    callerId: string,
    rawToken: unknown,
    key: string | undefined,
    body: unknown,
  ): Promise<IdempotentResult<PaymentView> | null> {
    if (key === undefined || typeof rawToken !== 'string') return null;
    if (!(error instanceof DomainError) || error.code !== ErrorCode.QUEUE_TOKEN_INVALID) {
      return null;
    }
    // A retired token proves who its owner was; a merely expired or unknown one proves nothing,
    // and the replay is the owner's alone: anyone else sending the token keeps the 401.
    const owner = await this.queue.findRetiredTokenOwner(rawToken);
    if (owner !== callerId) return null;
    try {
      return await this.idempotency.findReplay<PaymentView>({
        userId: owner,
        scope: PAYMENT_SCOPE,
        key,
        body,
      });
    } catch (replayError) {
      // Same key, different body: that is not a retry of the payment, so the token check stands
      // (a retired token may not start anything new) and the client gets the 401.
      if (
        replayError instanceof DomainError &&
        replayError.code === ErrorCode.IDEMPOTENCY_KEY_REUSED
      ) {
        return null;
      }
      throw replayError;
    }
  }

  /**
   * The payment stands whatever happens here: if Redis fails, the token is not retired now and
   * simply runs out at its TTL (QUEUE_ACTIVE_TTL_SECONDS), holding its slot until then.
   */
  private async retireQueueToken(token: string, userId: string): Promise<void> {
    try {
      await this.queue.retireToken(token, userId);
      this.metrics.increment('queue_tokens_expired_total');
    } catch (error) {
      this.logger.warn(
        `Payment committed but queue token of ${userId} not expired (it runs out by TTL): ${String(error)}`,
      );
    }
  }
}
