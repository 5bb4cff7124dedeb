import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import { ParseIdPipe } from '../../../common/http/validation';
import { UserWriteLimitGuard } from '../../auth/presentation/user-write-limit.guard';
import {
  ActiveQueuePass,
  type QueuePass,
  RequiresActiveQueueToken,
} from '../../queue/presentation/active-queue-token.guard';
import { ReservationFacade } from '../application/reservation.facade';
import { CreateReservationRequest, ReservationResponse } from './dto/reservation.dto';

@ApiTags('reservations')
@Controller('reservations')
@RequiresActiveQueueToken()
export class ReservationController {
  constructor(private readonly reservations: ReservationFacade) {}

  @Post()
  @HttpCode(201)
  @UseGuards(UserWriteLimitGuard)
  @ApiOperation({ summary: 'Hold a seat for RESERVATION_HOLD_SECONDS (default 300)' })
  @ApiCreatedResponse({ type: ReservationResponse })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.SEAT_NOT_FOUND,
    ErrorCode.SEAT_UNAVAILABLE,
    ErrorCode.BOOKING_CLOSED,
    ErrorCode.HOLD_LIMIT_REACHED,
    ErrorCode.PURCHASE_LIMIT_REACHED,
    ErrorCode.RATE_LIMITED,
  )
  async hold(
    @ActiveQueuePass() pass: QueuePass,
    @Body() body: CreateReservationRequest,
  ): Promise<ReservationResponse> {
    return ReservationResponse.from(
      await this.reservations.holdSeat(pass, body.scheduleId, body.seatId),
    );
  }

  @Get(':reservationId')
  @ApiOperation({ summary: "One of the caller's reservations" })
  @ApiOkResponse({ type: ReservationResponse })
  @ApiProblems(ErrorCode.VALIDATION_FAILED, ErrorCode.RESERVATION_NOT_FOUND)
  async get(
    @ActiveQueuePass() pass: QueuePass,
    @Param('reservationId', ParseIdPipe) reservationId: number,
  ): Promise<ReservationResponse> {
    return ReservationResponse.from(await this.reservations.getReservation(pass, reservationId));
  }

  @Delete(':reservationId')
  @HttpCode(200)
  @UseGuards(UserWriteLimitGuard)
  @ApiOperation({ summary: 'Release a hold: the reservation is CANCELLED, the seat AVAILABLE' })
  @ApiOkResponse({ type: ReservationResponse })
  @ApiProblems(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.RESERVATION_NOT_FOUND,
    ErrorCode.RESERVATION_NOT_HELD,
    ErrorCode.RATE_LIMITED,
  )
  async cancel(
    @ActiveQueuePass() pass: QueuePass,
    @Param('reservationId', ParseIdPipe) reservationId: number,
  ): Promise<ReservationResponse> {
    return ReservationResponse.from(await this.reservations.cancelHold(pass, reservationId));
  }
}
