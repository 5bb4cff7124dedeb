import { Body, Controller, Get, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems, BODY_PROBLEMS } from '../../../common/http/api-problem.decorator';
import type { AuthenticatedUser } from '../../auth/domain/authentication.service';
import { Authenticated, CurrentUser } from '../../auth/presentation/bearer-auth.guard';
import { UserWriteLimitGuard } from '../../auth/presentation/user-write-limit.guard';
import { QueueFacade } from '../application/queue.facade';
import { QueueTicket } from '../domain/queue-entry';
import { QUEUE_TOKEN_HEADER, ReadsLiveQueueToken } from './active-queue-token.guard';
import { IssueTokenRequest, QueueTicketResponse } from './dto/queue.dto';

const POLL_HINT_HEADER = {
  'Retry-After': {
    description: 'Seconds until the next status poll (same as pollAfterSeconds)',
    schema: { type: 'integer', minimum: 1, maximum: 60 },
  },
};

/** The poll hint travels in the body and, for plain HTTP clients, as Retry-After. */
function respond(reply: FastifyReply, ticket: QueueTicket): QueueTicketResponse {
  void reply.header('Retry-After', ticket.pollAfterSeconds);
  return QueueTicketResponse.from(ticket);
}

@ApiTags('queue')
@Controller('queue')
export class QueueController {
  constructor(private readonly queue: QueueFacade) {}

  @Post('tokens')
  @HttpCode(201)
  @Authenticated(UserWriteLimitGuard)
  @ApiOperation({
    summary: "Join a concert's waiting room (or get your live token of it back)",
    description:
      "A new token for the caller joins the end of the concert's line (201); before a " +
      'RANDOM_AT_START room starts, it joins the pre-queue, put in random order at the start. ' +
      'A caller who already has a WAITING or ACTIVE token in that room gets that same token ' +
      'back (200) and keeps their place. One user may wait in several rooms at once. Counts as ' +
      'a status poll. The token is bound to the caller and grants only its own concert.',
  })
  @ApiCreatedResponse({
    type: QueueTicketResponse,
    headers: POLL_HINT_HEADER,
    description: 'New token',
  })
  @ApiOkResponse({
    type: QueueTicketResponse,
    headers: POLL_HINT_HEADER,
    description: 'The caller already had a live token in this room; same token, same place',
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ErrorCode.CONCERT_NOT_FOUND,
    ErrorCode.WAITING_ROOM_NOT_OPEN,
    ErrorCode.RATE_LIMITED,
  )
  async issue(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: IssueTokenRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueTicketResponse> {
    const { ticket, created } = await this.queue.issueToken(user.id, body.concertId);
    void reply.status(created ? 201 : 200);
    return respond(reply, ticket);
  }

  @Get('status')
  @ReadsLiveQueueToken()
  @ApiOperation({
    summary: 'Where my token stands',
    description:
      'Accepts WAITING and ACTIVE tokens. Polling keeps a WAITING entry alive: one not polled for ' +
      "the room's waitingIdleSeconds is dropped. Poll again after `pollAfterSeconds` " +
      '(Retry-After), or follow GET /queue/events instead of polling.',
  })
  @ApiOkResponse({ type: QueueTicketResponse, headers: POLL_HINT_HEADER })
  async status(
    @Headers(QUEUE_TOKEN_HEADER) token: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueTicketResponse> {
    return respond(reply, await this.queue.status(token));
  }
}
