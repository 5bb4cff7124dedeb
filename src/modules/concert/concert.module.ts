import { Module } from '@nestjs/common';
import { ConcertFacade } from './application/concert.facade';
import { ConcertRepository } from './domain/concert.repository';
import { ConcertService } from './domain/concert.service';
import { SeatRepository } from './domain/seat.repository';
import { SeatService } from './domain/seat.service';
import { ConcertSqlRepository } from './infrastructure/concert.sql-repository';
import { SeatSqlRepository } from './infrastructure/seat.sql-repository';
import { AdminConcertController } from './presentation/admin-concert.controller';
import { ConcertController } from './presentation/concert.controller';

// The Queue-Token guard on the catalogue comes from the global QueueModule (which imports this
// module to check concerts, so importing it back would be a cycle).
@Module({
  controllers: [ConcertController, AdminConcertController],
  providers: [
    ConcertFacade,
    ConcertService,
    { provide: ConcertRepository, useClass: ConcertSqlRepository },
    SeatService,
    { provide: SeatRepository, useClass: SeatSqlRepository },
  ],
  exports: [ConcertService, SeatService],
})
export class ConcertModule {}
