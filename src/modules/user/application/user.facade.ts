import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { CashService } from '../../cash/domain/cash.service';
import { User } from '../domain/user';
import { UserService } from '../domain/user.service';

@Injectable()
export class UserFacade {
  constructor(
    private readonly users: UserService,
    private readonly cash: CashService,
    private readonly txHost: TransactionHost,
  ) {}

  /** A new user starts with an empty wallet, created in the same transaction. */
  register(name: string): Promise<User> {
    return this.txHost.withTransaction(async () => {
      const user = await this.users.register(name);
      await this.cash.openWallet(user.id);
      return user;
    });
  }

  getUser(userId: string): Promise<User> {
    return this.users.get(userId);
  }
}
