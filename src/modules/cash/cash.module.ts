import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../../common/idempotency/idempotency.module';
import { CashFacade } from './application/cash.facade';
import { CashWalletRepository } from './domain/cash-wallet.repository';
import { CashService } from './domain/cash.service';
import { CashWalletTypeOrmRepository } from './infrastructure/cash-wallet.typeorm-repository';
import { CashController } from './presentation/cash.controller';

@Module({
  imports: [IdempotencyModule],
  controllers: [CashController],
  providers: [
    CashFacade,
    CashService,
    { provide: CashWalletRepository, useClass: CashWalletTypeOrmRepository },
  ],
  exports: [CashService],
})
export class CashModule {}
