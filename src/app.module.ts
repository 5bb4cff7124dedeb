import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigModule } from './common/config/config.module';
import { appConfig, AppConfig } from './common/config/configuration';
import { ContextModule } from './common/context/context.module';
import { DatabaseModule } from './common/database/database.module';
import { HealthModule } from './common/health/health.module';
import { MetricsModule } from './common/metrics/metrics.module';
import { RedisModule } from './common/redis/redis.module';
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
        LoggerModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: AppConfig) => ({
            pinoHttp: {
              level: config.logLevel,
              // Request ids come from Fastify (X-Request-Id or a fresh UUID); see app.factory.ts.
              genReqId: (request) => String(request.headers['x-request-id'] ?? ''),
              // Access logs only for failures at the default level: success lines would cost
              // more than the queue endpoints themselves at on-sale traffic.
              customLogLevel: (_request, response, error) =>
                error || response.statusCode >= 500
                  ? 'error'
                  : response.statusCode >= 400
                    ? 'debug'
                    : 'trace',
              redact: [
                'req.headers["x-admin-key"]',
                'req.headers["queue-token"]',
                'req.headers.authorization',
              ],
            },
          }),
        }),
        ContextModule,
        DatabaseModule,
        RedisModule,
        ScheduleModule.forRoot(),
        HealthModule,
        MetricsModule,
        UserModule,
        CashModule,
        ConcertModule,
        QueueModule,
        ReservationModule,
        PaymentModule,
      ],
    };
  }
}
