import { Module } from '@nestjs/common';
import { CashWalletRepository } from './domain/cash-wallet.repository';
import { CashService } from './domain/cash.service';
import { CashWalletTypeOrmRepository } from './infrastructure/cash-wallet.typeorm-repository';

@Module({
  providers: [
    CashService,
    { provide: CashWalletRepository, useClass: CashWalletTypeOrmRepository },
  ],
  exports: [CashService],
})
export class CashModule {}
