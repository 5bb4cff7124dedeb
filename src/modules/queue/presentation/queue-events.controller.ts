import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../../common/errors/error-codes';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { leaveInFlightCount } from '../../../common/http/overload-protection';
import { QueueStreamHub, StreamEvent, StreamSink } from '../application/queue-stream-hub';
import { QueueTicket } from '../domain/queue-entry';
import { QUEUE_TOKEN_HEADER, ReadsLiveQueueToken } from './active-queue-token.guard';
import { QueueTicketResponse } from './dto/queue.dto';

// EventSource reconnects after this long when a stream drops (an instance restarting, say).
const RECONNECT_MS = 3000;

/** Writes Server-Sent Events straight to the socket, past Fastify's reply serialisation. */
function eventStreamSink(reply: FastifyReply): StreamSink {
  reply.hijack();
  leaveInFlightCount(reply);
  const raw = reply.raw;
  raw.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
    // nginx would otherwise buffer the stream and deliver events late, in lumps.
    'X-Accel-Buffering': 'no',
    'X-Request-Id': String(reply.request.id),
  });
  raw.write(`retry: ${RECONNECT_MS}\n\n`);
  return {
    send(event: StreamEvent, data: unknown) {
      if (raw.writableEnded) return;
      const body = event === 'expired' ? data : QueueTicketResponse.from(data as QueueTicket);
      raw.write(`event: ${event}\ndata: ${JSON.stringify(body)}\n\n`);
    },
    end() {
      if (!raw.writableEnded) raw.end();
    },
    onClose(listener) {
      raw.once('close', listener);
    },
  };
}

@ApiTags('queue')
@Controller('queue')
export class QueueEventsController {
  constructor(private readonly hub: QueueStreamHub) {}

  @Get('events')
  @ReadsLiveQueueToken()
  @ApiOperation({
    summary: 'Follow my token by Server-Sent Events instead of polling',
    description:
      '`text/event-stream`. Event `status` (data: the status JSON of GET /queue/status) at once, ' +
      'whenever the position changes (at most once a second) and at least every 15 s; ' +
      '`admitted` (data: the ACTIVE status) when the token turns ACTIVE, then the stream ends; ' +
      '`expired` (data: `{ token }`) when the token dies, then the stream ends. An open stream ' +
      'keeps the WAITING entry alive. Each instance holds a bounded number of streams: past ' +
      'it, 503 with Retry-After; poll GET /queue/status meanwhile.',
  })
  @ApiOkResponse({
    description: 'An event stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiProblems(ErrorCode.SERVICE_UNAVAILABLE)
  async events(
    @Headers(QUEUE_TOKEN_HEADER) token: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.hub.open(token, () => eventStreamSink(reply));
  }
}
