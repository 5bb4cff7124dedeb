import { Module } from '@nestjs/common';
import { AccountDirectory } from '../auth/domain/account-directory';
import { CashModule } from '../cash/cash.module';
import { UserFacade } from './application/user.facade';
import { PasswordHasher } from './domain/password-hasher';
import { UserRepository } from './domain/user.repository';
import { UserService } from './domain/user.service';
import { Argon2PasswordHasher } from './infrastructure/argon2-password-hasher';
import { UserSqlRepository } from './infrastructure/user.sql-repository';
import { UserController } from './presentation/user.controller';

@Module({
  imports: [CashModule],
  controllers: [UserController],
  providers: [
    UserFacade,
    UserService,
    { provide: AccountDirectory, useExisting: UserFacade },
    { provide: UserRepository, useClass: UserSqlRepository },
    { provide: PasswordHasher, useClass: Argon2PasswordHasher },
  ],
  // AccountDirectory is the user module's answer to the auth module's port.
  exports: [UserService, AccountDirectory],
})
export class UserModule {}
