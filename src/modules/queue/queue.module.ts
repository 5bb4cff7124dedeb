import { Global, Module } from '@nestjs/common';
import { ConcertModule } from '../concert/concert.module';
import { QueueFacade } from './application/queue.facade';
import { QueueStreamHub } from './application/queue-stream-hub';
import { QueueRepository } from './domain/queue.repository';
import { QueueService } from './domain/queue.service';
import { RoomSignals } from './domain/room-signals';
import { WaitingRoomRepository } from './domain/waiting-room.repository';
import { WaitingRoomService } from './domain/waiting-room.service';
import { QueueRedisRepository } from './infrastructure/queue.redis-repository';
import { RedisRoomSignals } from './infrastructure/room-signals.redis';
import { WaitingRoomSqlRepository } from './infrastructure/waiting-room.sql-repository';
import { AdminWaitingRoomController } from './presentation/admin-waiting-room.controller';
import { QueueEventsController } from './presentation/queue-events.controller';
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
  controllers: [QueueController, QueueEventsController, AdminWaitingRoomController],
  providers: [
    QueueFacade,
    QueueStreamHub,
    QueueService,
    WaitingRoomService,
    QueueScheduler,
    { provide: QueueRepository, useClass: QueueRedisRepository },
    { provide: WaitingRoomRepository, useClass: WaitingRoomSqlRepository },
    { provide: RoomSignals, useClass: RedisRoomSignals },
  ],
  // The payment and reservation facades and the catalogue call it too.
  exports: [QueueService],
})
export class QueueModule {}
