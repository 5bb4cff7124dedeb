import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import {
  ApiOwnUserIdParam,
  Authenticated,
  OwnUserId,
} from '../../auth/presentation/bearer-auth.guard';
import { UserFacade } from '../application/user.facade';
import { CreateUserRequest, UserResponse } from './dto/user.dto';

@ApiTags('users')
@Controller('users')
export class UserController {
  constructor(private readonly users: UserFacade) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Sign up (with an empty cash wallet)',
    description:
      'Emails are unique case-insensitively. Sign-ups per client address are limited ' +
      '(AUTH_SIGNUPS_PER_HOUR). Log in with POST /auth/tokens afterwards.',
  })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiProblems(...BODY_PROBLEMS, ErrorCode.EMAIL_TAKEN, ErrorCode.RATE_LIMITED)
  async register(
    @Body() body: CreateUserRequest,
    @Req() request: FastifyRequest,
  ): Promise<UserResponse> {
    return UserResponse.from(await this.users.signUp(body, request.ip));
  }

  @Get(':userId')
  @Authenticated()
  @ApiOwnUserIdParam()
  @ApiOperation({ summary: 'The caller: `GET /users/me`, or by their own id' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  async get(@OwnUserId() userId: string): Promise<UserResponse> {
    return UserResponse.from(await this.users.getUser(userId));
  }
}
