import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { readIdempotencyKey } from '../../../common/idempotency/idempotency-key';
import { stashIdempotentReplay } from '../../../common/idempotency/idempotent-response.interceptor';
import {
  QUEUE_TOKEN_HEADER,
  type RequestWithQueuePass,
} from '../../queue/presentation/active-queue-token.guard';
import type { RequestWithUser } from '../../auth/presentation/bearer-auth.guard';
import { PaymentFacade } from '../application/payment.facade';

/**
 * ActiveQueueTokenGuard for POST /payments, plus the replay of a completed payment whose queue
 * token that payment retired (see PaymentFacade.admitCheckout and docs/payments.md). Order:
 * a malformed Idempotency-Key → 400; an ACTIVE token → the handler runs (`request.queuePass`);
 * a retired token with a completed key and the same body → the stored 201 is answered by
 * IdempotentResponseInterceptor and the handler never runs; anything else → 401 / 403. Runs
 * after BearerAuthGuard: the token, live or retired, must be the caller's.
 */
@Injectable()
export class PaymentQueueTokenGuard implements CanActivate {
  constructor(private readonly payments: PaymentFacade) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithQueuePass & RequestWithUser>();
    if (!request.user) throw new Error('PaymentQueueTokenGuard needs BearerAuthGuard before it');
    const admission = await this.payments.admitCheckout(
      request.user.id,
      request.headers[QUEUE_TOKEN_HEADER],
      readIdempotencyKey(request.headers),
      request.body,
    );
    if (admission.kind === 'replay') {
      stashIdempotentReplay(request, admission.result);
    } else {
      request.queuePass = admission.pass;
    }
    return true;
  }
}
