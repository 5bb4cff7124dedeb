import { Module } from '@nestjs/common';
import { IdempotencyPurgeScheduler } from './idempotency-purge.scheduler';
import { IdempotencyMarker } from './idempotency.marker';
import { IdempotencyService } from './idempotency.service';
import { IdempotencyStore } from './idempotency.store';

/** Import it in any module whose facade offers Idempotency-Key (Nest keeps one instance). */
@Module({
  providers: [IdempotencyService, IdempotencyStore, IdempotencyMarker, IdempotencyPurgeScheduler],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
