import { Controller, Get, Param } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import { Authenticated } from '../../auth/presentation/bearer-auth.guard';
import {
  ActiveQueuePass,
  ActiveQueueTokenGuard,
  type QueuePass,
} from '../../queue/presentation/active-queue-token.guard';
import { ConcertFacade } from '../application/concert.facade';
import { ConcertResponse, ScheduleResponse, SeatResponse } from './dto/concert.dto';

const ACCESS_PROBLEMS = [
  ErrorCode.AUTH_TOKEN_INVALID,
  ErrorCode.QUEUE_TOKEN_INVALID,
  ErrorCode.QUEUE_TOKEN_NOT_ACTIVE,
  ErrorCode.QUEUE_TOKEN_OTHER_CONCERT,
];

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
  @Authenticated(ActiveQueueTokenGuard)
  @ApiHeader({ name: 'Queue-Token', required: true, description: 'An ACTIVE waiting-queue token' })
  @ApiOperation({ summary: 'Schedules whose booking window is open now, by startsAt' })
  @ApiOkResponse({ type: [ScheduleResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.CONCERT_NOT_FOUND, ...ACCESS_PROBLEMS)
  async schedules(
    @ActiveQueuePass() pass: QueuePass,
    @Param('concertId', ParseIdPipe) concertId: number,
  ): Promise<ScheduleResponse[]> {
    const schedules = await this.concerts.listBookableSchedules(pass, concertId);
    return schedules.map((schedule) => ScheduleResponse.from(schedule));
  }

  @Get(':concertId/schedules/:scheduleId/seats')
  @Authenticated(ActiveQueueTokenGuard)
  @ApiHeader({ name: 'Queue-Token', required: true, description: 'An ACTIVE waiting-queue token' })
  @ApiOperation({ summary: 'Seats of a schedule by number, with their current status' })
  @ApiOkResponse({ type: [SeatResponse] })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.SCHEDULE_NOT_FOUND, ...ACCESS_PROBLEMS)
  async seats(
    @ActiveQueuePass() pass: QueuePass,
    @Param('concertId', ParseIdPipe) concertId: number,
    @Param('scheduleId', ParseIdPipe) scheduleId: number,
  ): Promise<SeatResponse[]> {
    const seats = await this.concerts.listSeats(pass, concertId, scheduleId);
    return seats.map((seat) => SeatResponse.from(seat));
  }
}
