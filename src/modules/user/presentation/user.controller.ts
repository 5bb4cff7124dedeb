import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseUuidPipe } from '../../../common/http/validation';
import { UserFacade } from '../application/user.facade';
import { CreateUserRequest, UserResponse } from './dto/user.dto';

@ApiTags('users')
@Controller('users')
export class UserController {
  constructor(private readonly users: UserFacade) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a user (with an empty cash wallet)' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiProblems(...BODY_PROBLEMS)
  async register(@Body() body: CreateUserRequest): Promise<UserResponse> {
    return UserResponse.from(await this.users.register(body.name));
  }

  @Get(':userId')
  @ApiOperation({ summary: 'Get a user' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND)
  async get(@Param('userId', ParseUuidPipe) userId: string): Promise<UserResponse> {
    return UserResponse.from(await this.users.getUser(userId));
  }
}
