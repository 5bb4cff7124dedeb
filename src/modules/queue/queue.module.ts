import { Module } from '@nestjs/common';
import { UserModule } from '../user/user.module';
import { QueueFacade } from './application/queue.facade';
import { QueueRepository } from './domain/queue.repository';
import { QueueService } from './domain/queue.service';
import { QueueRedisRepository } from './infrastructure/queue.redis-repository';
import { QueueController } from './presentation/queue.controller';
import { QueueScheduler } from './presentation/queue.scheduler';

@Module({
  imports: [UserModule],
  controllers: [QueueController],
  providers: [
    QueueFacade,
    QueueService,
    QueueScheduler,
    { provide: QueueRepository, useClass: QueueRedisRepository },
  ],
  // The guard, used by other modules' controllers, is built in their module from this export;
  // the payment facade calls it too.
  exports: [QueueService],
})
export class QueueModule {}
