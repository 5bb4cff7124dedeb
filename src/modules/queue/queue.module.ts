import { Module } from '@nestjs/common';
import { ActiveQueueTokenGuard } from './presentation/active-queue-token.guard';

@Module({
  providers: [ActiveQueueTokenGuard],
  exports: [ActiveQueueTokenGuard],
})
export class QueueModule {}
