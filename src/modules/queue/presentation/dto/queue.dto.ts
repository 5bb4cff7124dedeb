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
    example: '1.3b241101-e2bb-4255-8caf-4136c566a962',
    description:
      'Opaque; send it as the Queue-Token header. Only its holder can use it, and only for its ' +
      'own concert.',
  })
  token!: string;

  @ApiProperty({ format: 'uuid' }) userId!: string;

  @ApiProperty({
    minimum: 1,
    example: 1,
    description: 'The concert whose waiting room the token belongs to (and which it grants)',
  })
  concertId!: number;

  @ApiProperty({ enum: ['WAITING', 'ACTIVE'] }) status!: 'WAITING' | 'ACTIVE';

  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 42,
    description:
      "1-based among the room's WAITING users; 0 when ACTIVE; null while a RANDOM_AT_START " +
      'room has not started (the order is drawn at the start)',
  })
  position!: number | null;

  @ApiProperty({
    minimum: 0,
    example: 12,
    description:
      'From the position and the admission rate actually achieved over the last minute (plus ' +
      'the time until the start, before it); 0 when ACTIVE',
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
    minimum: 1,
    maximum: 60,
    example: 3,
    description:
      'Seconds to wait before asking again (also sent as `Retry-After`): 1 s near the front, ' +
      'longer further back, the time left before a start, and always short enough that ' +
      'following it keeps the entry from being dropped as idle.',
  })
  pollAfterSeconds!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "The room's admission start, or null when it has none",
  })
  admissionStartsAt!: string | null;

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
      admissionStartsAt: ticket.admissionStartsAt?.toISOString() ?? null,
    };
  }
}
