import { Injectable } from '@nestjs/common';
import { CashWalletRepository } from './cash-wallet.repository';

@Injectable()
export class CashService {
  constructor(private readonly wallets: CashWalletRepository) {}

  openWallet(userId: string): Promise<void> {
    return this.wallets.createEmpty(userId);
  }
}
