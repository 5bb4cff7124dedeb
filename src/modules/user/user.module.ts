import { Module } from '@nestjs/common';
import { CashModule } from '../cash/cash.module';
import { UserFacade } from './application/user.facade';
import { UserRepository } from './domain/user.repository';
import { UserService } from './domain/user.service';
import { UserTypeOrmRepository } from './infrastructure/user.typeorm-repository';
import { UserController } from './presentation/user.controller';

@Module({
  imports: [CashModule],
  controllers: [UserController],
  providers: [
    UserFacade,
    UserService,
    { provide: UserRepository, useClass: UserTypeOrmRepository },
  ],
  exports: [UserService],
})
export class UserModule {}
