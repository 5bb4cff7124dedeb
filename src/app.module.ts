import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfigModule } from './common/config/config.module';
import { DatabaseModule } from './common/database/database.module';
import { HealthModule } from './common/health/health.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { OutboxModule } from './common/outbox/outbox.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { RedisModule } from './common/redis/redis.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { CashModule } from './modules/cash/cash.module';
import { ConcertModule } from './modules/concert/concert.module';
import { PaymentModule } from './modules/payment/payment.module';
import { QueueModule } from './modules/queue/queue.module';
import { ReservationModule } from './modules/reservation/reservation.module';
import { UserModule } from './modules/user/user.module';

@Module({})
export class AppModule {
  /** Built per call, so each app (several per test process) reads the environment afresh. */
  static forRoot(): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(),
        DatabaseModule,
        RedisModule,
        ScheduleModule.forRoot(),
        HealthModule,
        MetricsModule,
        OutboxModule,
        RateLimitModule,
        AuthModule,
        UserModule,
        CashModule,
        ConcertModule,
        QueueModule,
        ReservationModule,
        PaymentModule,
        AuditModule,
      ],
    };
  }
}
