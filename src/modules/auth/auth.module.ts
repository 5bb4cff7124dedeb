import { Global, Module } from '@nestjs/common';
import { UserModule } from '../user/user.module';
import { AuthFacade } from './application/auth.facade';
import { AccessTokenCodec } from './domain/access-token';
import { AuthenticationService } from './domain/authentication.service';
import { JoseAccessTokenCodec } from './infrastructure/jose-access-token.codec';
import { AuthController } from './presentation/auth.controller';

/**
 * Global because every module's controllers use BearerAuthGuard, whose dependency
 * (AuthenticationService) must be resolvable wherever the guard is applied.
 */
@Global()
@Module({
  imports: [UserModule],
  controllers: [AuthController],
  providers: [
    AuthFacade,
    AuthenticationService,
    { provide: AccessTokenCodec, useClass: JoseAccessTokenCodec },
  ],
  exports: [AuthenticationService],
})
export class AuthModule {}
