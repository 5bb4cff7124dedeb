import { Global, Module } from '@nestjs/common';
import { ConcertModule } from '../concert/concert.module';
import { QueueFacade } from './application/queue.facade';
import { QueueRepository } from './domain/queue.repository';
import { QueueService } from './domain/queue.service';
import { QueueRedisRepository } from './infrastructure/queue.redis-repository';
import { QueueController } from './presentation/queue.controller';
import { QueueScheduler } from './presentation/queue.scheduler';

/**
 * Global: the ActiveQueueTokenGuard on other modules' controllers (catalogue, holds, payments) is
 * built in their module from the exported QueueService, and the catalogue cannot import this
 * module back, since the queue checks concerts through it.
 */
@Global()
@Module({
  imports: [ConcertModule],
  controllers: [QueueController],
  providers: [
    QueueFacade,
    QueueService,
    QueueScheduler,
    { provide: QueueRepository, useClass: QueueRedisRepository },
  ],
  // The payment facade calls it too.
  exports: [QueueService],
})
export class QueueModule {}
