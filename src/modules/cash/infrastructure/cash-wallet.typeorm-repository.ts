import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { DB_NOW } from '../../../common/database/sql';
import { CashWalletRepository } from '../domain/cash-wallet.repository';

@Injectable()
export class CashWalletTypeOrmRepository extends CashWalletRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super();
  }

  async createEmpty(userId: string): Promise<void> {
    await this.txHost.tx.query(
      `INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES (?, 0, ${DB_NOW})
       ON DUPLICATE KEY UPDATE user_id = user_id`,
      [userId],
    );
  }
}
