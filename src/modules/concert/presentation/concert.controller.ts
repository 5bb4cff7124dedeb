import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import {
  ActiveQueuePass,
  type QueuePass,
  RequiresActiveQueueToken,
} from '../../queue/presentation/active-queue-token.guard';
import { ConcertFacade } from '../application/concert.facade';
import { ConcertResponse, ScheduleResponse, SeatResponse } from './dto/concert.dto';

@ApiTags('concerts')
@Controller('concerts')
export class ConcertController {
  constructor(private readonly concerts: ConcertFacade) {}

  @Get()
  @ApiOperation({ summary: 'List concerts (no token needed)' })
  @ApiOkResponse({ type: [ConcertResponse] })
  @ApiProblems()
  async list(): Promise<ConcertResponse[]> {
    return (await this.concerts.listConcerts()).map((concert) => ConcertResponse.from(concert));
  }

  @Get(':concertId/schedules')
  @RequiresActiveQueueToken()
  @ApiOperation({ summary: 'Schedules whose booking window is open now, by startsAt' })
  @ApiOkResponse({ type: [ScheduleResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.CONCERT_NOT_FOUND)
  async schedules(
    @ActiveQueuePass() pass: QueuePass,
    @Param('concertId', ParseIdPipe) concertId: number,
  ): Promise<ScheduleResponse[]> {
    const schedules = await this.concerts.listBookableSchedules(pass, concertId);
    return schedules.map((schedule) => ScheduleResponse.from(schedule));
  }

  @Get(':concertId/schedules/:scheduleId/seats')
  @RequiresActiveQueueToken()
  @ApiOperation({ summary: 'Seats of a schedule by number, with their current status' })
  @ApiOkResponse({ type: [SeatResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.SCHEDULE_NOT_FOUND)
  async seats(
    @ActiveQueuePass() pass: QueuePass,
    @Param('concertId', ParseIdPipe) concertId: number,
    @Param('scheduleId', ParseIdPipe) scheduleId: number,
  ): Promise<SeatResponse[]> {
    const seats = await this.concerts.listSeats(pass, concertId, scheduleId);
    return seats.map((seat) => SeatResponse.from(seat));
  }
}
