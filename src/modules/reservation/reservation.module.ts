import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { reservationConfig, ReservationConfig } from '../../common/config/configuration';
import { DistributedLock } from '../../common/lock/distributed-lock';
import { NoopDistributedLock } from '../../common/lock/noop-distributed-lock';
import { RedisDistributedLock } from '../../common/lock/redis-distributed-lock';
import { ConcertModule } from '../concert/concert.module';
import { QueueModule } from '../queue/queue.module';
import { ReservationFacade } from './application/reservation.facade';
import { ReservationRepository } from './domain/reservation.repository';
import { ReservationService } from './domain/reservation.service';
import { ReservationTypeOrmRepository } from './infrastructure/reservation.typeorm-repository';
import { ReservationController } from './presentation/reservation.controller';
import { ReservationScheduler } from './presentation/reservation.scheduler';

@Module({
  imports: [ConcertModule, QueueModule],
  controllers: [ReservationController],
  providers: [
    ReservationFacade,
    ReservationService,
    ReservationScheduler,
    { provide: ReservationRepository, useClass: ReservationTypeOrmRepository },
    {
      // The seat lock is a shield only; RESERVATION_SEAT_LOCK=off lets tests prove the fence.
      provide: DistributedLock,
      inject: [reservationConfig.KEY, Redis],
      useFactory: (config: ReservationConfig, redis: Redis): DistributedLock =>
        config.seatLock === 'redis' ? new RedisDistributedLock(redis) : new NoopDistributedLock(),
    },
  ],
  exports: [ReservationService],
})
export class ReservationModule {}
