import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { AdminOnly } from '../../../common/http/admin-only.decorator';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import { ConcertFacade } from '../application/concert.facade';
import {
  ConcertResponse,
  CreateConcertRequest,
  CreateScheduleRequest,
  ScheduleResponse,
  ScheduleWithSeatsResponse,
  SeatResponse,
} from './dto/concert.dto';

@ApiTags('admin')
@Controller('admin/concerts')
@AdminOnly()
export class AdminConcertController {
  constructor(private readonly concerts: ConcertFacade) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a concert' })
  @ApiCreatedResponse({ type: ConcertResponse })
  @ApiProblems(...BODY_PROBLEMS)
  async createConcert(@Body() body: CreateConcertRequest): Promise<ConcertResponse> {
    const concert = await this.concerts.createConcert({
      title: body.title.trim(),
      performer: body.performer?.trim() ?? null,
    });
    return ConcertResponse.from(concert);
  }

  @Post(':concertId/schedules')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a schedule with its seats (numbers 1..seatCount)' })
  @ApiCreatedResponse({ type: ScheduleWithSeatsResponse })
  @ApiProblems(ErrorCode.CONCERT_NOT_FOUND, ...BODY_PROBLEMS)
  async createSchedule(
    @Param('concertId', ParseIdPipe) concertId: number,
    @Body() body: CreateScheduleRequest,
  ): Promise<ScheduleWithSeatsResponse> {
    const { schedule, seats } = await this.concerts.putScheduleOnSale(concertId, body);
    return {
      ...ScheduleResponse.from(schedule),
      seats: seats.map((seat) => SeatResponse.from(seat)),
    };
  }
}
