import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { AuthFacade } from '../application/auth.facade';
import { AccessTokenResponse, LoginRequest } from './dto/auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthFacade) {}

  @Post('tokens')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in: trade an email and password for an access token',
    description:
      'An unknown email and a wrong password get the same 401, in about the same time. After ' +
      'AUTH_LOGIN_MAX_FAILURES attempts on one email within AUTH_LOGIN_WINDOW_SECONDS, 429 ' +
      'until the window passes.',
  })
  @ApiOkResponse({ type: AccessTokenResponse })
  @ApiProblems(...BODY_PROBLEMS, ErrorCode.CREDENTIALS_INVALID, ErrorCode.RATE_LIMITED)
  login(@Body() body: LoginRequest): Promise<AccessTokenResponse> {
    return this.auth.login(body.email, body.password);
  }
}
