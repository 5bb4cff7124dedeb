import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { QueueTicket } from '../../domain/queue-entry';

/** The caller comes from the bearer token; a `userId` field is rejected like any unknown field. */
export class IssueTokenRequest {
  @ApiProperty({ minimum: 1, example: 1, description: 'The concert whose waiting room to join' })
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  concertId!: number;
}

export class QueueTicketResponse {
  @ApiProperty({
    format: 'uuid',
    description: 'Opaque; send it as the Queue-Token header. Only its holder can use it.',
  })
  token!: string;

  @ApiProperty({ format: 'uuid' }) userId!: string;

  @ApiProperty({
    minimum: 0,
    example: 1,
    description:
      'The concert the token was issued for. Until per-concert waiting rooms exist there is one ' +
      'queue and one token per user: a returning user gets their live token back with the ' +
      'concert of the request that created it, whatever concertId the new request named. ' +
      '0 only for a token issued before tokens recorded their concert (gone within one TTL).',
  })
  concertId!: number;

  @ApiProperty({ enum: ['WAITING', 'ACTIVE'] }) status!: 'WAITING' | 'ACTIVE';

  @ApiProperty({
    minimum: 0,
    example: 42,
    description: '1-based among WAITING users; 0 when ACTIVE',
  })
  position!: number;

  @ApiProperty({
    minimum: 0,
    example: 12,
    description:
      'From the position and the admission rate actually achieved over the last minute; 0 when ACTIVE',
  })
  estimatedWaitSeconds!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the ACTIVE token expires; null while WAITING',
  })
  activeUntil!: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 1,
    example: 3,
    description:
      'Poll hint: seconds to wait before the next GET /queue/status (also sent as the ' +
      '`Retry-After` header). 1 s near the front, longer further back, always short enough ' +
      'that following it keeps the entry from being dropped as idle. Null when ACTIVE.',
  })
  pollAfterSeconds!: number | null;

  static from(ticket: QueueTicket): QueueTicketResponse {
    return {
      token: ticket.token,
      userId: ticket.userId,
      concertId: ticket.concertId,
      status: ticket.status,
      position: ticket.position,
      estimatedWaitSeconds: ticket.estimatedWaitSeconds,
      activeUntil: ticket.activeUntil?.toISOString() ?? null,
      pollAfterSeconds: ticket.pollAfterSeconds,
    };
  }
}
