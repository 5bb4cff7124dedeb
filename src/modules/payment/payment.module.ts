import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../../common/idempotency/idempotency.module';
import { CashModule } from '../cash/cash.module';
import { ConcertModule } from '../concert/concert.module';
import { QueueModule } from '../queue/queue.module';
import { ReservationModule } from '../reservation/reservation.module';
import { CheckoutScope } from './application/checkout-scope';
import { CheckoutUseCase } from './application/checkout.use-case';
import { PaymentFacade } from './application/payment.facade';
import { RefundUseCase } from './application/refund.use-case';
import { PaymentRepository } from './domain/payment.repository';
import { PaymentService } from './domain/payment.service';
import { PaymentSqlRepository } from './infrastructure/payment.sql-repository';
import { PaymentController } from './presentation/payment.controller';
import { PaymentQueueTokenGuard } from './presentation/payment-queue-token.guard';

@Module({
  imports: [ReservationModule, ConcertModule, CashModule, QueueModule, IdempotencyModule],
  controllers: [PaymentController],
  providers: [
    PaymentFacade,
    CheckoutUseCase,
    CheckoutScope,
    RefundUseCase,
    PaymentService,
    PaymentQueueTokenGuard,
    { provide: PaymentRepository, useClass: PaymentSqlRepository },
  ],
  exports: [PaymentService],
})
export class PaymentModule {}
