import { Body, Controller, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { AdminOnly } from '../../../common/http/admin-only.decorator';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import { QueueFacade } from '../application/queue.facade';
import {
  ConfigureWaitingRoomRequest,
  WaitingRoomResponse,
  WaitingRoomStatsResponse,
} from './dto/waiting-room.dto';

@ApiTags('admin')
@Controller('admin/concerts/:concertId/waiting-room')
@AdminOnly()
export class AdminWaitingRoomController {
  constructor(private readonly queue: QueueFacade) {}

  @Put()
  @HttpCode(200)
  @ApiOperation({
    summary: "Replace a concert's waiting-room settings",
    description:
      'Every field is optional; one left out (or null) takes its QUEUE_* environment default. ' +
      'In force on every instance within about a second. Answers the effective settings.',
  })
  @ApiOkResponse({ type: WaitingRoomResponse })
  @ApiProblems(ErrorCode.CONCERT_NOT_FOUND, ...BODY_PROBLEMS)
  async configure(
    @Param('concertId', ParseIdPipe) concertId: number,
    @Body() body: ConfigureWaitingRoomRequest,
  ): Promise<WaitingRoomResponse> {
    return WaitingRoomResponse.from(await this.queue.configureRoom(concertId, body.toStored()));
  }

  @Get()
  @ApiOperation({ summary: "A concert's waiting-room settings and live figures" })
  @ApiOkResponse({ type: WaitingRoomStatsResponse })
  @ApiProblems(ErrorCode.CONCERT_NOT_FOUND, ErrorCode.VALIDATION_FAILED)
  async describe(
    @Param('concertId', ParseIdPipe) concertId: number,
  ): Promise<WaitingRoomStatsResponse> {
    return WaitingRoomStatsResponse.withStats(await this.queue.describeRoom(concertId));
  }
}
