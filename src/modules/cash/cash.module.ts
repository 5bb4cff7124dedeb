import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../../common/idempotency/idempotency.module';
import { CashFacade } from './application/cash.facade';
import { CashWalletRepository } from './domain/cash-wallet.repository';
import { CashService } from './domain/cash.service';
import { CashWalletSqlRepository } from './infrastructure/cash-wallet.sql-repository';
import { CashController } from './presentation/cash.controller';

@Module({
  imports: [IdempotencyModule],
  controllers: [CashController],
  providers: [
    CashFacade,
    CashService,
    { provide: CashWalletRepository, useClass: CashWalletSqlRepository },
  ],
  exports: [CashService],
})
export class CashModule {}
