import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import {
  redisConfig,
  RedisConfig,
  reservationConfig,
  ReservationConfig,
} from '../../common/config/configuration';
import { DistributedLock } from '../../common/lock/distributed-lock';
import { connectLockNodes } from '../../common/lock/lock-nodes';
import { NoopDistributedLock } from '../../common/lock/noop-distributed-lock';
import { RedisDistributedLock } from '../../common/lock/redis-distributed-lock';
import { RedlockDistributedLock } from '../../common/lock/redlock-distributed-lock';
import { MetricsService } from '../../common/metrics/metrics.service';
import { ConcertModule } from '../concert/concert.module';
import { QueueModule } from '../queue/queue.module';
import { ReservationFacade } from './application/reservation.facade';
import { ReservationRepository } from './domain/reservation.repository';
import { ReservationService } from './domain/reservation.service';
import { ReservationSqlRepository } from './infrastructure/reservation.sql-repository';
import { ReservationController } from './presentation/reservation.controller';
import { ReservationScheduler } from './presentation/reservation.scheduler';

@Module({
  imports: [ConcertModule, QueueModule],
  controllers: [ReservationController],
  providers: [
    ReservationFacade,
    ReservationService,
    ReservationScheduler,
    { provide: ReservationRepository, useClass: ReservationSqlRepository },
    {
      // The seat lock is a shield only; RESERVATION_SEAT_LOCK=off lets tests prove the fence.
      // REDIS_LOCK_NODES moves it from the main Redis to a quorum of independent masters, whose
      // clients the Redlock lock owns and closes on shutdown.
      provide: DistributedLock,
      inject: [reservationConfig.KEY, redisConfig.KEY, Redis, MetricsService],
      useFactory: async (
        config: ReservationConfig,
        redis: RedisConfig,
        client: Redis,
        metrics: MetricsService,
      ): Promise<DistributedLock> => {
        if (config.seatLock === 'off') return new NoopDistributedLock();
        if (config.seatLockNodes.length === 0) return new RedisDistributedLock(client);
        return new RedlockDistributedLock(
          await connectLockNodes(config.seatLockNodes, redis.keyPrefix),
          metrics,
        );
      },
    },
  ],
  exports: [ReservationService],
})
export class ReservationModule {}
